#include "kernels/build.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "kernels/hash.h"
#include "kernels/kconfig.h"
#include "kernels/kernel_image.h"
#include "process/subprocess.h"
#include "proto/json.h"

namespace swapchaos::kernels {
namespace fs = std::filesystem;
using process::OutputOf;
using process::RunToEnd;
using std::chrono::seconds;

namespace {

constexpr auto kProgressEvery = seconds(30);

// Bump when the way a recipe becomes a kernel changes without any input
// changing: it is part of every id.
constexpr char kRecipeVersion[] = "swapchaos-kernel-2";

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::Status WriteText(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string Sha256Of(std::string_view text) {
  Sha256 h;
  h.Update(text);
  return h.HexDigest();
}

std::string FirstLine(absl::string_view text) {
  return std::string(absl::StripAsciiWhitespace(text.substr(0, text.find('\n'))));
}

// The Debian package that installed the file, if one did.
void IdentifyPackage(KernelSource* source) {
  auto owner = OutputOf({"dpkg-query", "-S", source->path()}, seconds(30));
  if (!owner.ok()) return;
  std::string package = FirstLine(*owner).substr(0, owner->find(':'));
  auto version = OutputOf({"dpkg-query", "-W", "-f=${Version}", package}, seconds(30));
  if (!version.ok()) return;
  source->set_package(package);
  source->set_package_version(FirstLine(*version));
}

// The source's identity: a tarball's content (and the Debian package that
// ships it, if one does), or a git tree's clean HEAD.
absl::Status IdentifySource(const std::string& path, KernelSource* source) {
  std::error_code ec;
  source->set_path(fs::absolute(path, ec).string());
  if (fs::is_regular_file(path, ec)) {
    auto digest = Sha256OfFile(path);
    if (!digest.ok()) return digest.status();
    source->set_tarball_sha256(*digest);
    if (auto owner = OutputOf({"dpkg-query", "-S", source->path()}, seconds(30)); owner.ok()) {
      std::string package = FirstLine(*owner).substr(0, owner->find(':'));
      auto version = OutputOf({"dpkg-query", "-W", "-f=${Version}", package}, seconds(30));
      if (version.ok()) {
        source->set_package(package);
        source->set_package_version(FirstLine(*version));
      }
    }
    return absl::OkStatus();
  }
  if (!fs::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel source ", path, ": no such tarball or directory"));
  }
  if (!fs::exists(fs::path(path) / ".git")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel source ", path,
        " is a directory but not a git tree: its commit is what identifies it (or give a tarball)"));
  }
  auto head = OutputOf({"git", "-C", path, "rev-parse", "HEAD"}, seconds(30));
  auto dirty = OutputOf({"git", "-C", path, "status", "--porcelain", "--untracked-files=no"},
                        seconds(120));
  if (!head.ok() || !dirty.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel source ", path, ": git cannot read it: ",
        (head.ok() ? dirty.status() : head.status()).message()));
  }
  if (!absl::StripAsciiWhitespace(*dirty).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel source ", path,
                     " has uncommitted changes: commit them, or give them as a patch series"));
  }
  source->set_git_commit(FirstLine(*head));
  return absl::OkStatus();
}

// The series in order: a quilt `series` file, else *.patch and *.diff by name.
absl::StatusOr<std::vector<std::string>> SeriesPatches(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("patch series ", dir, ": no such directory"));
  }
  std::vector<std::string> patches;
  std::string series = dir + "/series";
  if (fs::exists(series)) {
    auto text = ReadText(series);
    if (!text.ok()) return text.status();
    int line_no = 0;
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      ++line_no;
      line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
      if (line.empty()) continue;
      std::string patch = absl::StrCat(dir, "/", line.substr(0, line.find_first_of(" \t")));
      if (!fs::is_regular_file(patch, ec)) {
        return absl::InvalidArgumentError(
            absl::StrCat(series, ":", line_no, ": no such patch ", patch));
      }
      patches.push_back(patch);
    }
  } else {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      std::string name = e.path().filename().string();
      if (e.is_regular_file() && (name.ends_with(".patch") || name.ends_with(".diff"))) {
        patches.push_back(e.path().string());
      }
    }
    std::sort(patches.begin(), patches.end());
  }
  if (patches.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("patch series ", dir, " holds no patches (a series file, or *.patch)"));
  }
  return patches;
}

// What `patch` said about the hunks it could not place, for the error.
std::string FailedHunks(const std::string& output) {
  std::vector<std::string> lines;
  std::string file;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StartsWith(line, "patching file ")) {
      file = std::string(line.substr(14));
    } else if (absl::StrContains(line, "FAILED") || absl::StrContains(line, "can't find file") ||
               absl::StrContains(line, "malformed") || absl::StrContains(line, "Reversed")) {
      lines.push_back(file.empty() ? std::string(line) : absl::StrCat(file, ": ", line));
    }
  }
  return lines.empty() ? output : absl::StrJoin(lines, "; ");
}

absl::StatusOr<KernelManifest> ReadManifest(const std::string& dir) {
  auto text = ReadText(dir + "/manifest.json");
  if (!text.ok()) return text.status();
  KernelManifest m;
  if (!google::protobuf::util::JsonStringToMessage(*text, &m).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, "/manifest.json does not parse"));
  }
  return m;
}

absl::Status WriteManifest(const std::string& dir, const KernelManifest& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, opts);
  return WriteText(dir + "/manifest.json", json);
}

// Removes a build's working directory on every exit path unless kept.
class WorkDir {
 public:
  explicit WorkDir(std::string path) : path_(std::move(path)) {
    std::error_code ec;
    fs::remove_all(path_, ec);  // a build killed earlier
    fs::create_directories(path_, ec);
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The entry, complete in `staged`, moved under its id; if a concurrent
// build got there first, that one stands.
absl::StatusOr<CachedKernel> Commit(const std::string& staged, const std::string& kernels_dir,
                                    const KernelManifest& m) {
  if (absl::Status s = WriteManifest(staged, m); !s.ok()) return s;
  std::string entry = absl::StrCat(kernels_dir, "/", m.id());
  std::error_code ec;
  fs::rename(staged, entry, ec);
  if (ec && !fs::exists(entry + "/manifest.json")) {
    return absl::UnavailableError(absl::StrCat("cannot create ", entry, ": ", ec.message()));
  }
  fs::remove(absl::StrCat(kernels_dir, "/", m.id(), ".failed.log"), ec);
  auto manifest = ReadManifest(entry);
  if (!manifest.ok()) return manifest.status();
  return CachedKernel{entry, *manifest, entry + "/bzImage"};
}

}  // namespace

absl::StatusOr<KernelPlan> PlanKernel(const KernelRecipe& recipe) {
  KernelPlan plan;
  KernelManifest& m = plan.manifest;
  m.set_name(recipe.name);
  m.set_kind("source");
  if (absl::Status s = IdentifySource(recipe.source, m.mutable_source()); !s.ok()) return s;
  if (!recipe.series.empty()) {
    auto patches = SeriesPatches(recipe.series);
    if (!patches.ok()) return patches.status();
    if (recipe.first_patches > static_cast<int>(patches->size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("patch series ", recipe.series, ": the first ", recipe.first_patches,
                       " patches asked for, it holds ", patches->size()));
    }
    if (recipe.first_patches >= 0) patches->resize(static_cast<size_t>(recipe.first_patches));
    for (const std::string& p : *patches) {
      // Absolute: patch runs with -d in the extracted tree.
      plan.patch_paths.push_back(fs::absolute(p).string());
      auto digest = Sha256OfFile(p);
      if (!digest.ok()) return digest.status();
      KernelFile* f = m.add_patches();
      f->set_name(fs::path(p).filename().string());
      f->set_sha256(*digest);
    }
  }
  plan.fragments.push_back({"swapchaos.config", std::string(SwapchaosFragment())});
  for (const std::string& path : recipe.fragments) {
    auto text = ReadText(path);
    if (!text.ok()) return text.status();
    if (auto parsed = ParseKconfig(*text, path); !parsed.ok()) return parsed.status();
    plan.fragments.push_back({path, *text});
  }
  for (const auto& [name, text] : plan.fragments) {
    KernelFile* f = m.add_fragments();
    f->set_name(fs::path(name).filename().string());
    f->set_sha256(Sha256Of(text));
  }
  auto gcc = OutputOf({"gcc", "--version"}, seconds(30));
  if (!gcc.ok()) return absl::FailedPreconditionError("gcc is needed to build kernels");
  m.set_compiler(FirstLine(*gcc));

  std::string id_text = absl::StrCat(kRecipeVersion, "\nsource ", m.source().tarball_sha256(),
                                     m.source().git_commit(), "\n");
  for (const KernelFile& p : m.patches()) absl::StrAppend(&id_text, "patch ", p.name(), " ", p.sha256(), "\n");
  for (const KernelFile& f : m.fragments()) absl::StrAppend(&id_text, "fragment ", f.sha256(), "\n");
  absl::StrAppend(&id_text, "compiler ", m.compiler(), "\n");
  m.set_id(Sha256Of(id_text));
  return plan;
}

CompileProgress CountCompiled(std::string_view log) {
  CompileProgress p;
  for (absl::string_view line : absl::StrSplit(absl::string_view(log.data(), log.size()), '\n')) {
    // "  CC      mm/vmscan.o", "  CC [M]  fs/nfs/inode.o"
    if (!absl::ConsumePrefix(&line, "  CC ")) continue;
    line = absl::StripLeadingAsciiWhitespace(line);
    absl::ConsumePrefix(&line, "[M]");
    ++p.objects;
    p.last = std::string(absl::StripAsciiWhitespace(line));
  }
  return p;
}

namespace {

// What the newest build in the cache compiled: about what the next one will.
int ObjectsOfLastBuild(const std::string& kernels_dir) {
  std::error_code ec;
  fs::path newest;
  fs::file_time_type newest_time;
  for (const auto& e : fs::directory_iterator(kernels_dir, ec)) {
    // Finished builds only: not .build-* (this one's own log among them).
    if (e.path().filename().string().starts_with(".")) continue;
    fs::path log = e.path() / "build.log";
    auto t = fs::last_write_time(log, ec);
    if (!ec && (newest.empty() || t > newest_time)) {
      newest = log;
      newest_time = t;
    }
  }
  return newest.empty() ? 0 : CountCompiled(ReadText(newest).value_or("")).objects;
}

}  // namespace

absl::StatusOr<CachedKernel> BuildKernel(const KernelRecipe& recipe, const BuildOptions& o) {
  auto plan = PlanKernel(recipe);
  if (!plan.ok()) return plan.status();
  KernelManifest m = plan->manifest;
  std::string entry = absl::StrCat(o.kernels_dir, "/", m.id());
  if (fs::exists(entry + "/manifest.json")) {
    auto cached = ReadManifest(entry);
    if (!cached.ok()) return cached.status();
    if (o.progress) *o.progress << "kernel " << m.id().substr(0, 12) << " is already built: " << entry << "\n";
    return CachedKernel{entry, *cached, entry + "/bzImage"};
  }
  auto started = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::create_directories(o.kernels_dir, ec);
  WorkDir work(absl::StrCat(o.kernels_dir, "/.build-", m.id().substr(0, 12), "-", getpid()));
  const std::string src = work.path() + "/src", obj = work.path() + "/obj",
                    staged = work.path() + "/entry", log = work.path() + "/build.log";
  fs::create_directories(src, ec);
  fs::create_directories(obj, ec);
  fs::create_directories(staged, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", work.path(), ": ", ec.message()));
  std::string failed_log = absl::StrCat(o.kernels_dir, "/", m.id(), ".failed.log");
  // Every failure keeps the log, and only the log.
  auto fail = [&](absl::Status s) {
    fs::copy_file(log, failed_log, fs::copy_options::overwrite_existing, ec);
    return absl::Status(s.code(), absl::StrCat(s.message(), "\n(build log: ", failed_log, ")"));
  };
  auto say = [&](const std::string& what) {
    if (o.progress) *o.progress << "kernel " << m.id().substr(0, 12) << ": " << what << "\n" << std::flush;
  };

  say("unpacking " + m.source().path());
  absl::Status s =
      m.source().git_commit().empty()
          ? RunToEnd({.argv = {"tar", "-xf", m.source().path(), "-C", src, "--strip-components=1"},
                      .log_path = log},
                     seconds(1800), o.stopped)
          : RunToEnd({.argv = {"git", "clone", "-q", "--shared", m.source().path(), src},
                      .log_path = log},
                     seconds(1800), o.stopped);
  if (s.ok() && !m.source().git_commit().empty()) {
    s = RunToEnd({.argv = {"git", "-C", src, "checkout", "-q", "--detach", m.source().git_commit()},
                  .log_path = log},
                 seconds(600), o.stopped);
  }
  if (!s.ok()) return fail(s);

  for (size_t i = 0; i < plan->patch_paths.size(); ++i) {
    const std::string& name = m.patches(static_cast<int>(i)).name();
    say("applying " + name);
    std::string patch_log = absl::StrCat(work.path(), "/patch-", i, ".log");
    s = RunToEnd({.argv = {"patch", "-p1", "--batch", "--forward", "-d", src, "-i",
                           plan->patch_paths[i]},
                  .log_path = patch_log},
                 seconds(120), o.stopped);
    auto said = ReadText(patch_log);
    std::ofstream(log, std::ios::app) << "patch " << name << ":\n" << said.value_or("");
    if (!s.ok()) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "patch ", name, " (", i + 1, " of ", plan->patch_paths.size(), ") does not apply: ",
          FailedHunks(said.value_or("")))));
    }
  }

  // Reproducible images: no build time, user or host in the version string.
  std::vector<std::string> make = {
      "env", absl::StrCat("KBUILD_BUILD_TIMESTAMP=swapchaos ", m.id().substr(0, 12)),
      "KBUILD_BUILD_USER=swapchaos", "KBUILD_BUILD_HOST=swapchaos", "KBUILD_BUILD_VERSION=1",
      // ccache keyed on paths relative to the work directory, so the next
      // build of a mutant reuses every unchanged object.
      absl::StrCat("CCACHE_DIR=", fs::absolute(o.kernels_dir).string(), "/.ccache"),
      absl::StrCat("CCACHE_BASEDIR=", fs::absolute(work.path()).string()), "CCACHE_NOHASHDIR=true",
      "make", "-C", src, absl::StrCat("O=", fs::absolute(obj).string()),
      // The release names the build; as a make variable, not
      // CONFIG_LOCALVERSION, it stays out of autoconf.h, which every file
      // includes: ccache then finds the next build's unchanged objects
      // without preprocessing them.
      absl::StrCat("LOCALVERSION=-swapchaos-", m.id().substr(0, 12))};
  if (fs::exists("/usr/bin/ccache")) make.push_back("CC=ccache gcc");
  auto run_make = [&](std::vector<std::string> targets, seconds timeout,
                      const std::function<bool()>& stopped) {
    std::vector<std::string> argv = make;
    argv.insert(argv.end(), targets.begin(), targets.end());
    return RunToEnd({.argv = argv, .log_path = log}, timeout, stopped);
  };

  say("configuring: tinyconfig + " + absl::StrJoin(m.fragments(), " + ", [](std::string* out, const KernelFile& f) {
        out->append(f.name());
      }));
  if (s = run_make({"tinyconfig"}, seconds(600), o.stopped); !s.ok()) return fail(s);
  auto tiny_text = ReadText(obj + "/.config");
  if (!tiny_text.ok()) return fail(tiny_text.status());
  auto config = ParseKconfig(*tiny_text, obj + "/.config");
  if (!config.ok()) return fail(config.status());
  std::vector<Kconfig> fragments;
  for (const auto& [name, text] : plan->fragments) {
    auto f = ParseKconfig(text, name);
    if (!f.ok()) return fail(f.status());
    *config = MergeKconfig(*std::move(config), *f);
    fragments.push_back(*std::move(f));
  }
  if (s = WriteText(obj + "/.config", FormatKconfig(*config)); !s.ok()) return fail(s);
  if (s = run_make({"olddefconfig"}, seconds(600), o.stopped); !s.ok()) return fail(s);
  auto final_text = ReadText(obj + "/.config");
  if (!final_text.ok()) return fail(final_text.status());
  auto final_config = ParseKconfig(*final_text, obj + "/.config");
  if (!final_config.ok()) return fail(final_config.status());
  std::vector<std::string> missing;
  for (size_t i = 0; i < fragments.size(); ++i) {
    for (const std::string& option : MissingOptions(*final_config, fragments[i])) {
      missing.push_back(absl::StrCat(option, " [", fs::path(plan->fragments[i].first).filename().string(), "]"));
    }
  }
  if (!missing.empty()) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "the kernel's config lacks options its fragments ask for (Kconfig dropped them: a "
        "dependency is not met, or another fragment turns them off): ",
        absl::StrJoin(missing, ", "))));
  }

  say(absl::StrCat("compiling with make -j", o.jobs, " (log: ", log, ")"));
  // 10-16 minutes under TCG-sized hosts: a line every half minute says it
  // moves. RunToEnd polls `compiling` every 20 ms; the line rides on it.
  const int expected = ObjectsOfLastBuild(o.kernels_dir);
  const auto compile_start = std::chrono::steady_clock::now();
  auto next_line = compile_start + kProgressEvery;
  auto compiling = [&] {
    if (auto now = std::chrono::steady_clock::now(); o.progress && now >= next_line) {
      next_line += kProgressEvery;
      CompileProgress p = CountCompiled(ReadText(log).value_or(""));
      say(absl::StrCat("compiling: ", p.objects,
                       expected > 0 ? absl::StrCat(" of about ", expected) : "", " objects in ",
                       std::chrono::duration_cast<seconds>(now - compile_start).count(), " s",
                       p.last.empty() ? "" : ", the last " + p.last));
    }
    return o.stopped && o.stopped();
  };
  if (s = run_make({absl::StrCat("-j", o.jobs), "bzImage", "modules"}, seconds(4 * 3600), compiling);
      !s.ok()) {
    // Stopped is ours to report; a compiler's error is the source's.
    if (absl::IsAborted(s)) s = absl::InvalidArgumentError(absl::StrCat("the kernel does not build: ", s.message()));
    return fail(s);
  }
  if (s = run_make({"modules_install", "INSTALL_MOD_PATH=" + fs::absolute(staged).string() + "/modules"},
                   seconds(1200), o.stopped);
      !s.ok()) {
    return fail(s);
  }
  // modules_install links source/ and build/ to the work directory, which
  // goes away: no dangling links in the cache.
  std::vector<fs::path> dangling;
  for (const auto& e : fs::recursive_directory_iterator(staged + "/modules", ec)) {
    if (e.is_symlink() && !fs::exists(e.path())) dangling.push_back(e.path());
  }
  for (const fs::path& p : dangling) fs::remove(p, ec);
  fs::copy_file(obj + "/arch/x86/boot/bzImage", staged + "/bzImage", ec);
  if (!ec) fs::copy_file(obj + "/.config", staged + "/config", ec);
  if (ec) return fail(absl::UnavailableError(absl::StrCat("cannot copy the image: ", ec.message())));
  auto image = ReadKernelImage(staged + "/bzImage");
  if (!image.ok()) return fail(image.status());
  m.set_config_sha256(Sha256Of(*final_text));
  m.set_image_sha256(image->sha256);
  m.set_release(image->release);
  m.set_version(image->version);
  m.set_built_at(JsonTimeNow());
  m.set_build_s(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  fs::rename(log, staged + "/build.log", ec);
  auto cached = Commit(staged, o.kernels_dir, m);
  if (cached.ok()) say(absl::StrCat("built ", image->release, " in ", static_cast<int>(m.build_s()), " s: ", cached->dir));
  return cached;
}

absl::StatusOr<CachedKernel> ImportKernel(const std::string& name, const std::string& image_path,
                                          const std::string& modules_dir,
                                          const std::string& kernels_dir) {
  auto image = ReadKernelImage(image_path, modules_dir);
  if (!image.ok()) return image.status();
  KernelManifest m;
  m.set_name(name);
  m.set_kind("import");
  m.mutable_source()->set_path(fs::absolute(image_path).string());
  m.set_image_sha256(image->sha256);
  m.set_release(image->release);
  m.set_version(image->version);
  // The modules as files: every relative path and its content.
  std::vector<fs::path> files;
  std::error_code ec;
  if (!modules_dir.empty()) {
    for (const auto& e : fs::recursive_directory_iterator(modules_dir, ec)) {
      if (e.is_regular_file()) files.push_back(fs::relative(e.path(), modules_dir));
    }
    std::sort(files.begin(), files.end());
    Sha256 h;
    for (const fs::path& f : files) {
      h.Update(f.string());
      h.Update(std::string(1, '\0'));
      if (absl::Status s = h.UpdateFile((fs::path(modules_dir) / f).string()); !s.ok()) return s;
    }
    m.set_modules_sha256(h.HexDigest());
  }
  m.set_id(Sha256Of(absl::StrCat("swapchaos-import-1\nimage ", m.image_sha256(), "\nmodules ",
                                 m.modules_sha256(), "\n")));
  std::string entry = absl::StrCat(kernels_dir, "/", m.id());
  if (fs::exists(entry + "/manifest.json")) {
    auto cached = ReadManifest(entry);
    if (!cached.ok()) return cached.status();
    return CachedKernel{entry, *cached, entry + "/bzImage"};
  }
  fs::create_directories(kernels_dir, ec);
  WorkDir work(absl::StrCat(kernels_dir, "/.import-", m.id().substr(0, 12), "-", getpid()));
  std::string staged = work.path() + "/entry";
  fs::create_directories(staged, ec);
  fs::copy_file(image_path, staged + "/bzImage", ec);
  if (!ec && !modules_dir.empty()) {
    fs::path to = fs::path(staged) / "modules/lib/modules" / image->release;
    fs::create_directories(to, ec);
    if (!ec) fs::copy(modules_dir, to, fs::copy_options::recursive, ec);
  }
  if (ec) return absl::UnavailableError(absl::StrCat("cannot copy into ", staged, ": ", ec.message()));
  m.set_built_at(JsonTimeNow());
  return Commit(staged, kernels_dir, m);
}

absl::StatusOr<std::vector<CachedKernel>> ListKernels(const std::string& kernels_dir) {
  std::vector<CachedKernel> kernels;
  std::error_code ec;
  if (!fs::exists(kernels_dir, ec)) return kernels;
  for (const auto& e : fs::directory_iterator(kernels_dir, ec)) {
    std::string name = e.path().filename().string();
    if (!e.is_directory() || name.starts_with(".") || !fs::exists(e.path() / "manifest.json")) continue;
    auto m = ReadManifest(e.path().string());
    if (!m.ok()) return m.status();
    kernels.push_back({e.path().string(), *m, (e.path() / "bzImage").string()});
  }
  if (ec) return absl::UnavailableError(absl::StrCat("cannot list ", kernels_dir, ": ", ec.message()));
  std::sort(kernels.begin(), kernels.end(), [](const CachedKernel& a, const CachedKernel& b) {
    return a.manifest.built_at() < b.manifest.built_at();
  });
  return kernels;
}

absl::StatusOr<CachedKernel> FindKernel(const std::string& kernels_dir, const std::string& ref) {
  auto all = ListKernels(kernels_dir);
  if (!all.ok()) return all.status();
  std::vector<CachedKernel> found;
  for (const CachedKernel& k : *all) {
    if (k.manifest.name() == ref || (ref.size() >= 4 && k.manifest.id().starts_with(ref))) {
      found.push_back(k);
    }
  }
  if (found.size() == 1) return found[0];
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("no kernel named ", ref, " or with an id starting so in ",
                                            kernels_dir, " (swapchaos kernel list)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(ref, " names ", found.size(),
                                                 " kernels in ", kernels_dir, ": give more of the id"));
}

absl::StatusOr<CachedKernel> ResolveKernel(const std::string& kernels_dir, const std::string& ref) {
  std::string path = ref;
  if (ref.empty() || ref == "default") {
    auto d = DefaultKernelPath();
    if (!d.ok()) return d.status();
    path = *d;
  } else if (!fs::is_regular_file(ref)) {
    return FindKernel(kernels_dir, ref);
  }
  fs::path dir = fs::absolute(path).parent_path();
  if (fs::exists(dir / "manifest.json") && fs::path(path).filename() == "bzImage") {
    auto m = ReadManifest(dir.string());
    if (!m.ok()) return m.status();
    return CachedKernel{dir.string(), *m, fs::absolute(path).string()};
  }
  auto image = ReadKernelImage(path);
  if (!image.ok()) return image.status();
  KernelManifest m;
  m.set_kind("image");
  m.mutable_source()->set_path(fs::absolute(path).string());
  IdentifyPackage(m.mutable_source());
  m.set_image_sha256(image->sha256);
  m.set_id(image->sha256);
  m.set_release(image->release);
  m.set_version(image->version);
  return CachedKernel{"", m, fs::absolute(path).string()};
}

}  // namespace swapchaos::kernels
