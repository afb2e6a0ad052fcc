#include "kernels/elf_closure.h"

#include <elf.h>

#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace swapchaos::kernels {
namespace fs = std::filesystem;

namespace {

// Debian's multiarch ld.so.conf plus the traditional directories.
const std::vector<std::string>& SystemDirs() {
  static const std::vector<std::string> dirs = {"/lib/x86_64-linux-gnu",
                                                "/usr/lib/x86_64-linux-gnu",
                                                "/lib64",
                                                "/usr/lib64",
                                                "/lib",
                                                "/usr/lib",
                                                "/usr/local/lib"};
  return dirs;
}

struct ElfDeps {
  std::string interpreter;
  std::vector<std::string> needed;
  std::vector<std::string> search;  // DT_RPATH / DT_RUNPATH entries
};

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

template <typename T>
bool ReadAt(const std::string& data, uint64_t off, T* out) {
  if (off > data.size() || data.size() - off < sizeof(T)) return false;
  std::memcpy(out, data.data() + off, sizeof(T));
  return true;
}

absl::StatusOr<ElfDeps> ReadElfDeps(const std::string& path) {
  auto data = ReadAll(path);
  if (!data.ok()) return data.status();
  Elf64_Ehdr eh;
  if (!ReadAt(*data, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an x86-64 ELF file"));
  }
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  for (size_t i = 0; i < phdrs.size(); ++i) {
    if (!ReadAt(*data, eh.e_phoff + i * eh.e_phentsize, &phdrs[i])) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": truncated program headers"));
    }
  }
  // Dynamic entries hold virtual addresses; PT_LOAD maps them to file offsets.
  auto to_offset = [&](uint64_t vaddr) -> uint64_t {
    for (const auto& p : phdrs) {
      if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr < p.p_vaddr + p.p_filesz) {
        return vaddr - p.p_vaddr + p.p_offset;
      }
    }
    return UINT64_MAX;
  };
  auto cstr = [&](uint64_t off) -> std::string {
    if (off >= data->size()) return {};
    return std::string(data->c_str() + off);
  };

  ElfDeps deps;
  for (const auto& p : phdrs) {
    if (p.p_type == PT_INTERP) deps.interpreter = cstr(p.p_offset);
    if (p.p_type != PT_DYNAMIC) continue;
    std::vector<Elf64_Dyn> dyn;
    uint64_t strtab = 0;
    for (uint64_t off = p.p_offset; off + sizeof(Elf64_Dyn) <= p.p_offset + p.p_filesz;
         off += sizeof(Elf64_Dyn)) {
      Elf64_Dyn d;
      if (!ReadAt(*data, off, &d) || d.d_tag == DT_NULL) break;
      if (d.d_tag == DT_STRTAB) strtab = to_offset(d.d_un.d_ptr);
      dyn.push_back(d);
    }
    if (strtab == UINT64_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": DT_STRTAB outside PT_LOAD"));
    }
    std::string origin = fs::path(path).parent_path().string();
    for (const auto& d : dyn) {
      if (d.d_tag == DT_NEEDED) deps.needed.push_back(cstr(strtab + d.d_un.d_val));
      if (d.d_tag == DT_RPATH || d.d_tag == DT_RUNPATH) {
        for (auto dir : absl::StrSplit(cstr(strtab + d.d_un.d_val), ':', absl::SkipEmpty())) {
          std::string s(dir);
          if (s.starts_with("$ORIGIN")) s = origin + s.substr(7);
          deps.search.push_back(s);
        }
      }
    }
  }
  return deps;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveLibraryClosure(const std::string& binary) {
  std::set<std::string> found;
  std::set<std::string> seen_names;
  std::deque<std::string> todo = {binary};
  while (!todo.empty()) {
    std::string file = todo.front();
    todo.pop_front();
    auto deps = ReadElfDeps(file);
    if (!deps.ok()) return deps.status();
    if (!deps->interpreter.empty() && found.insert(deps->interpreter).second) {
      todo.push_back(deps->interpreter);
    }
    for (const std::string& name : deps->needed) {
      if (!seen_names.insert(name).second) continue;
      std::string hit;
      std::vector<std::string> dirs = deps->search;
      dirs.insert(dirs.end(), SystemDirs().begin(), SystemDirs().end());
      for (const std::string& dir : dirs) {
        std::string candidate = dir + "/" + name;
        if (fs::exists(candidate)) {
          hit = candidate;
          break;
        }
      }
      if (hit.empty()) {
        return absl::NotFoundError(
            absl::StrCat(file, " needs ", name, ", which is in no library directory"));
      }
      if (found.insert(hit).second) todo.push_back(hit);
    }
  }
  return std::vector<std::string>(found.begin(), found.end());
}

}  // namespace swapchaos::kernels
