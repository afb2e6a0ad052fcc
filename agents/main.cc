// swapchaos-agent: runs inside each guest as the child of init. It brings
// the guest up (modules, NICs, routes), then serves the Agent service.
//   swapchaos-agent --role=victim|wire --listen=ADDR:PORT [--modules=LIST]
//                   [--nic=NAME,MAC,CIDR]... [--route=DST,GW]... [--forward]
//                   [--no-pin]   (benchmarks on the host: no mlockall, OOM shield
//                                 or priority, so hundreds can run side by side)
#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agents/boot/bringup.h"
#include "agents/service.h"
#include "agents/workload/child.h"

namespace {

// The agent must keep answering under the memory pressure it creates: it
// locks itself in memory and tells the OOM killer to pick anything else.
bool PinInMemory() {
  // Every future mapping is locked, so keep thread stacks and malloc arenas
  // small: gRPC's threads would otherwise lock 8 MiB of stack each.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 512 << 10);
  pthread_setattr_default_np(&attr);
  pthread_attr_destroy(&attr);
  mallopt(M_ARENA_MAX, 1);
  // Everything mapped now is faulted in and locked; later mappings (a new
  // gRPC thread's stack, heap growth) are locked page by page as touched,
  // not populated whole at creation: a thread created to answer an RPC in a
  // victim already short of memory would otherwise wait for reclaim first.
  bool locked = mlockall(MCL_CURRENT) == 0 && mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0;
  if (!locked) std::perror("swapchaos-agent: mlockall");
  if (FILE* f = std::fopen("/proc/self/oom_score_adj", "w")) {
    locked = std::fputs("-1000", f) >= 0 && locked;
    std::fclose(f);
  } else {
    locked = false;
  }
  setpriority(PRIO_PROCESS, 0, -10);
  return locked;
}

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "swapchaos-agent: %s\nusage: swapchaos-agent --role=victim|wire "
               "--listen=ADDR:PORT [--modules=LIST] [--nic=NAME,MAC,CIDR]... "
               "[--route=DST,GW]... [--forward] [--no-pin]\n",
               why.c_str());
  return 2;
}

void Report(const char* step, const absl::Status& s) {
  if (!s.ok()) {
    std::printf("swapchaos-agent: %s: %s\n", step, std::string(s.message()).c_str());
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Workload tasks and spikes are this binary again, in a child mode.
  swapchaos::agents::workload::RunIfChild(argc, argv);
  std::string role_name, listen, modules;
  std::vector<swapchaos::agents::boot::NicConfig> nics;
  std::vector<swapchaos::agents::boot::RouteConfig> routes;
  bool forward = false, pin = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value = a.substr(a.find('=') + 1);
    if (a.starts_with("--role=")) {
      role_name = value;
    } else if (a.starts_with("--listen=")) {
      listen = value;
    } else if (a.starts_with("--modules=")) {
      modules = value;
    } else if (a.starts_with("--nic=")) {
      auto nic = swapchaos::agents::boot::ParseNic(value);
      if (!nic.ok()) return Usage(std::string(nic.status().message()));
      nics.push_back(*nic);
    } else if (a.starts_with("--route=")) {
      auto route = swapchaos::agents::boot::ParseRoute(value);
      if (!route.ok()) return Usage(std::string(route.status().message()));
      routes.push_back(*route);
    } else if (a == "--forward") {
      forward = true;
    } else if (a == "--no-pin") {
      pin = false;
    } else {
      return Usage("unknown argument " + a);
    }
  }
  swapchaos::agent::Role role = role_name == "victim" ? swapchaos::agent::ROLE_VICTIM
                                : role_name == "wire" ? swapchaos::agent::ROLE_WIRE
                                                      : swapchaos::agent::ROLE_UNSPECIFIED;
  if (role == swapchaos::agent::ROLE_UNSPECIFIED) return Usage("--role must be victim or wire");
  if (listen.empty()) return Usage("--listen is required (the control NIC's address)");

  // A failed step is reported and the agent serves anyway: what did come up
  // (the control NIC, say) lets the controller see what went wrong.
  if (!modules.empty()) {
    Report("modules", swapchaos::agents::boot::LoadModules(modules, "/lib/modules"));
  }
  Report("network",
         swapchaos::agents::boot::ConfigureNetwork(nics, routes, forward, std::chrono::seconds(5)));
  bool locked = pin && PinInMemory();
  swapchaos::agents::AgentService service(role, locked);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "swapchaos-agent: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::printf("swapchaos-agent: %s agent listening on %s (memory locked: %s)\n", role_name.c_str(),
              listen.c_str(), locked ? "yes" : "no");
  std::fflush(stdout);
  server->Wait();
  return 0;
}
