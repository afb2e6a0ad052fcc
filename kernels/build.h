#ifndef SWAPCHAOS_KERNELS_BUILD_H_
#define SWAPCHAOS_KERNELS_BUILD_H_

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "swapchaos/kernel.pb.h"

namespace swapchaos::kernels {

// A kernel to build: a source (a tarball such as Debian's
// /usr/src/linux-source-6.1.tar.xz, or a git tree at a clean HEAD), an
// optional patch series (a directory with a quilt `series` file, or its
// *.patch and *.diff files in name order), and config fragments merged over
// `make tinyconfig` plus swapchaos.config.
struct KernelRecipe {
  std::string name;
  std::string source;
  std::string series;
  std::vector<std::string> fragments;
  // Only the series' first N patches (bisect's steps); -1: all of them. The
  // id is that of a series holding just those, so step 0 is the source's.
  int first_patches = -1;
};

// What a build would be, found without building: every input read and
// hashed into the manifest's id. Bad input (no such source, a dirty tree, a
// fragment that does not parse) is InvalidArgument naming it.
struct KernelPlan {
  KernelManifest manifest;  // inputs and id; outputs still empty
  std::vector<std::string> patch_paths;
  // (file, text) of each fragment, swapchaos.config first; later ones win.
  std::vector<std::pair<std::string, std::string>> fragments;
};
absl::StatusOr<KernelPlan> PlanKernel(const KernelRecipe& recipe);

// One kernel in the cache, `<kernels dir>/<id>/`: bzImage, modules/,
// config, build.log and manifest.json. (ResolveKernel also gives kernels
// outside it: then `dir` is empty.)
struct CachedKernel {
  std::string dir;
  KernelManifest manifest;
  std::string image;  // the bzImage
};

struct BuildOptions {
  std::string kernels_dir;
  int jobs = 2;
  std::ostream* progress = nullptr;
  std::function<bool()> stopped;  // Ctrl-C: stop the build, clean up
};

// How far a compile is, from its make output: the objects compiled so far
// (Kbuild's "  CC      mm/vmscan.o" lines) and the last of them.
struct CompileProgress {
  int objects = 0;
  std::string last;
};
CompileProgress CountCompiled(std::string_view log);

// Builds the recipe's kernel into the cache, or finds it there (same id).
// The build runs in `<kernels dir>/.build-<id>-<pid>/` (source extracted and
// patched, objects out of tree, compiled through ccache when installed) and
// appears under its id only when complete; on any failure nothing of it
// stays but `<kernels dir>/<id>.failed.log`. A patch that does not apply
// names the patch and its failed hunks; a config that lost an option it
// asked for lists them (both InvalidArgument).
absl::StatusOr<CachedKernel> BuildKernel(const KernelRecipe& recipe, const BuildOptions& options);

// A prebuilt bzImage (and its modules directory, /lib/modules/<release>
// style; may be empty) copied into the cache.
absl::StatusOr<CachedKernel> ImportKernel(const std::string& name, const std::string& image,
                                          const std::string& modules_dir,
                                          const std::string& kernels_dir);

// Every complete kernel in the cache, oldest first.
absl::StatusOr<std::vector<CachedKernel>> ListKernels(const std::string& kernels_dir);

// A kernel by its name or a unique prefix of its id (NotFound otherwise).
absl::StatusOr<CachedKernel> FindKernel(const std::string& kernels_dir, const std::string& ref);

// What a user may name as the kernel under test: "default" (Debian's
// linux-image-cloud-amd64), a bzImage path (its cache entry's manifest when
// it is in the cache, else one read from the image: kind "image", with the
// Debian package that installed it if any), or a cached kernel's name or id.
absl::StatusOr<CachedKernel> ResolveKernel(const std::string& kernels_dir, const std::string& ref);

}  // namespace swapchaos::kernels

#endif  // SWAPCHAOS_KERNELS_BUILD_H_
