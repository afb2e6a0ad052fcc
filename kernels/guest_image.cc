#include "kernels/guest_image.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "kernels/cpio.h"
#include "kernels/elf_closure.h"
#include "kernels/guest/init_agent.h"
#include "kernels/guest/init_probe.h"
#include "kernels/hash.h"

namespace swapchaos::kernels {
namespace fs = std::filesystem;

namespace {
// Bump when the image layout changes without any input changing.
constexpr std::string_view kLayoutVersion = "swapchaos-guest-image-1";

struct Member {
  std::string guest_path;
  std::string host_path;
  uint32_t mode;
};
}  // namespace

std::vector<ModuleRequest> GuestModules() {
  return {
      {"virtio_pci", ""},
      {"virtio_net", ""},
      // One device and no partitions: the default 16 devices slow boot.
      {"nbd", "nbds_max=1 max_part=0"},
      {"sch_netem", ""},
      {"sch_prio", ""},
      {"sch_ingress", ""},
      {"cls_u32", ""},
      {"cls_matchall", ""},
      {"act_mirred", ""},
      {"ifb", "numifbs=0"},
  };
}

GuestImageSpec AgentImageSpec(const KernelImage& kernel, const std::string& agent,
                              std::vector<std::string> tools) {
  GuestImageSpec spec;
  spec.modules_dir = kernel.modules_dir;
  spec.modules = GuestModules();
  spec.agent = agent;
  spec.tools = std::move(tools);
  spec.init_script = std::string(guest::kinit_agent);
  return spec;
}

GuestImageSpec ProbeImageSpec() {
  GuestImageSpec spec;
  spec.init_script = std::string(guest::kinit_probe);
  return spec;
}

absl::StatusOr<std::string> BuildGuestImage(const GuestImageSpec& spec,
                                            const std::string& cache_dir) {
  // Gather every member first: the hash must cover all of them.
  std::vector<Member> members = {{"/bin/busybox", spec.busybox, 0755}};
  std::string module_list;
  if (!spec.modules.empty()) {
    if (spec.modules_dir.empty()) {
      return absl::InvalidArgumentError("kernel has no modules directory (pass --modules DIR)");
    }
    auto loads = ResolveModules(spec.modules_dir, spec.modules);
    if (!loads.ok()) return loads.status();
    for (const ModuleLoad& m : *loads) {
      members.push_back({"/lib/modules/" + m.relpath, spec.modules_dir + "/" + m.relpath, 0644});
      absl::StrAppend(&module_list, m.relpath, " ", m.args, "\n");
    }
  }
  std::vector<std::string> programs = spec.tools;
  if (!spec.agent.empty()) programs.insert(programs.begin(), spec.agent);
  std::set<std::string> libs_in;
  for (const std::string& program : programs) {
    std::string name = program == spec.agent ? "swapchaos-agent" : fs::path(program).filename();
    members.push_back({"/usr/bin/" + name, program, 0755});
    auto libs = ResolveLibraryClosure(program);
    if (!libs.ok()) return libs.status();
    for (const std::string& lib : *libs) {
      if (libs_in.insert(lib).second) members.push_back({lib, lib, 0755});
    }
  }

  Sha256 h;
  h.Update(kLayoutVersion);
  h.Update(spec.init_script);
  h.Update(module_list);
  for (const Member& m : members) {
    h.Update(m.guest_path);
    h.Update(std::string(1, '\0'));
    if (absl::Status s = h.UpdateFile(m.host_path); !s.ok()) return s;
  }
  fs::path dir = fs::path(cache_dir) / "images";
  fs::path image = dir / (h.HexDigest() + ".cpio");
  if (fs::exists(image)) return image.string();

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create cache directory ", dir.string(), ": ", ec.message()));
  }
  fs::path tmp = image;
  tmp += absl::StrCat(".tmp.", getpid(), ".", gettid());  // concurrent runs of one campaign
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    CpioWriter w(out);
    for (const char* d : {"/proc", "/sys", "/dev", "/tmp", "/run", "/sbin"}) w.AddDirectory(d);
    // The kernel opens /dev/console for init before devtmpfs is mounted.
    w.AddCharDevice("/dev/console", 5, 1);
    w.AddFile("/init", spec.init_script, 0755);
    w.AddFile("/etc/swapchaos/modules", module_list);
    for (const Member& m : members) {
      if (absl::Status s = w.AddHostFile(m.guest_path, m.host_path, m.mode); !s.ok()) {
        out.close();
        fs::remove(tmp, ec);
        return s;
      }
    }
    w.Finish();
    out.flush();
    if (!out) {
      fs::remove(tmp, ec);
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp.string()));
    }
  }
  fs::rename(tmp, image, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return absl::UnavailableError(absl::StrCat("cannot create ", image.string()));
  }
  return image.string();
}

}  // namespace swapchaos::kernels
