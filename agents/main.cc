// swapchaos-agent: runs inside each guest as the child of init.
//   swapchaos-agent --role=victim|wire --listen=ADDR:PORT
#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "agents/service.h"

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
  bool locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
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

int Usage(const char* why) {
  std::fprintf(stderr,
               "swapchaos-agent: %s\nusage: swapchaos-agent --role=victim|wire "
               "--listen=ADDR:PORT\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string role_name, listen;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--role=")) {
      role_name = a.substr(7);
    } else if (a.starts_with("--listen=")) {
      listen = a.substr(9);
    } else {
      return Usage(("unknown argument " + std::string(a)).c_str());
    }
  }
  swapchaos::agent::Role role = role_name == "victim" ? swapchaos::agent::ROLE_VICTIM
                                : role_name == "wire" ? swapchaos::agent::ROLE_WIRE
                                                      : swapchaos::agent::ROLE_UNSPECIFIED;
  if (role == swapchaos::agent::ROLE_UNSPECIFIED) return Usage("--role must be victim or wire");
  if (listen.empty()) return Usage("--listen is required (the control NIC's address)");

  bool locked = PinInMemory();
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
