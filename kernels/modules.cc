#include "kernels/modules.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace swapchaos::kernels {
namespace {

// "kernel/drivers/net/virtio_net.ko.xz" -> "virtio_net".
std::string ModuleName(std::string_view relpath) {
  std::string_view base = relpath.substr(relpath.rfind('/') + 1);
  base = base.substr(0, base.find(".ko"));
  std::string name(base);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

struct DepGraph {
  std::map<std::string, std::string> path_of;               // name -> relpath
  std::map<std::string, std::vector<std::string>> deps_of;  // name -> dep names
};

absl::StatusOr<DepGraph> ReadDepFile(const std::string& modules_dir) {
  std::string file = modules_dir + "/modules.dep";
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", file));
  DepGraph g;
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string rel = line.substr(0, colon);
    std::string name = ModuleName(rel);
    g.path_of[name] = rel;
    std::istringstream deps(line.substr(colon + 1));
    std::string dep;
    auto& list = g.deps_of[name];
    while (deps >> dep) list.push_back(ModuleName(dep));
  }
  return g;
}

std::set<std::string> ReadBuiltins(const std::string& modules_dir) {
  std::set<std::string> builtin;
  std::ifstream in(modules_dir + "/modules.builtin");
  std::string line;
  while (std::getline(in, line)) builtin.insert(ModuleName(line));
  return builtin;
}

// Post-order walk: every dependency lands before the module needing it.
void Visit(const DepGraph& g, const std::string& name, std::set<std::string>& seen,
           std::vector<std::string>& order) {
  if (!seen.insert(name).second) return;
  auto it = g.deps_of.find(name);
  if (it != g.deps_of.end()) {
    // modules.dep lists the deepest dependency last; load it first.
    for (auto d = it->second.rbegin(); d != it->second.rend(); ++d) {
      Visit(g, *d, seen, order);
    }
  }
  order.push_back(name);
}

}  // namespace

absl::StatusOr<std::vector<ModuleLoad>> ResolveModules(const std::string& modules_dir,
                                                       const std::vector<ModuleRequest>& wanted) {
  auto graph = ReadDepFile(modules_dir);
  if (!graph.ok()) return graph.status();
  std::set<std::string> builtin = ReadBuiltins(modules_dir);
  std::map<std::string, std::string> args;
  std::set<std::string> seen;
  std::vector<std::string> order;
  for (const ModuleRequest& req : wanted) {
    std::string name = ModuleName(req.name);
    if (graph->path_of.count(name) == 0) {
      if (builtin.count(name) != 0) continue;
      return absl::NotFoundError(absl::StrCat("kernel module ", req.name, " is neither in ",
                                              modules_dir, "/modules.dep nor built in"));
    }
    args[name] = req.args;
    Visit(*graph, name, seen, order);
  }
  std::vector<ModuleLoad> loads;
  for (const std::string& name : order) {
    loads.push_back({graph->path_of.at(name), args[name]});
  }
  return loads;
}

}  // namespace swapchaos::kernels
