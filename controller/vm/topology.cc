#include "controller/vm/topology.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "controller/vm/tap.h"
#include "faults/rtnl.h"

namespace swapchaos::controller {
using namespace topology;

RunNetwork::~RunNetwork() {
  for (int fd : {victim_tap, wire_a_tap, wire_b_tap}) {
    if (fd >= 0) close(fd);
  }
}

absl::StatusOr<std::unique_ptr<RunNetwork>> CreateRunNetwork() {
  auto ns = NetNamespace::Create();
  if (!ns.ok()) return ns.status();
  auto net = std::make_unique<RunNetwork>();
  net->ns = std::move(*ns);
  absl::Status s = net->ns->Run([&]() -> absl::Status {
    auto rtnl = faults::Rtnl::Open();
    if (!rtnl.ok()) return rtnl.status();
    faults::Rtnl& r = **rtnl;
    for (auto [name, fd] : {std::pair{"vic0", &net->victim_tap}, std::pair{"wa0", &net->wire_a_tap},
                            std::pair{"wb0", &net->wire_b_tap}}) {
      auto tap = CreateTap(name);
      if (!tap.ok()) return tap.status();
      *fd = *tap;
    }
    const std::function<absl::Status()> steps[] = {
        [&] { return r.SetUp("lo"); },
        [&] { return r.AddBridge("br0"); },
        [&] { return r.SetMaster("vic0", "br0"); },
        [&] { return r.SetMaster("wa0", "br0"); },
        [&] { return r.SetUp("vic0"); },
        [&] { return r.SetUp("wa0"); },
        [&] { return r.SetUp("br0"); },
        // QEMU forwards the agents' ports on this loopback.
        [&] { return r.SetUp("lo"); },
        [&] { return r.AddAddress("wb0", kServerCidr); },
        [&] { return r.SetUp("wb0"); },
        // The victim's subnet sits behind the wire.
        [&] { return r.AddRoute("192.0.2.0/24", "198.51.100.1"); },
    };
    for (const auto& step : steps) {
      if (absl::Status st = step(); !st.ok()) return st;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return net;
}

std::string GuestParams(GuestRole role) {
  std::string control = absl::StrCat("swapchaos.nic=ctl0,", kControlMac, ",", kGuestControlIp,
                                     "/24 swapchaos.listen=", kGuestControlIp, ":", kAgentPort);
  if (role == GuestRole::kVictim) {
    return absl::StrCat("swapchaos.role=victim ", control, " swapchaos.nic=data0,", kVictimDataMac,
                        ",", kVictimData, " swapchaos.route=198.51.100.0/24,192.0.2.1");
  }
  return absl::StrCat("swapchaos.role=wire ", control, " swapchaos.forward=1 swapchaos.nic=data0,",
                      kWireAMac, ",", kWireA, " swapchaos.nic=data1,", kWireBMac, ",", kWireB);
}

namespace {
constexpr uint32_t kWireMemoryMib = 256;

NicSpec ControlNic(uint16_t port) {
  return NicSpec{.id = "ctl",
                 .mac = kControlMac,
                 .host_port = port,
                 .guest_ip = kGuestControlIp,
                 .guest_port = kAgentPort};
}
}  // namespace

QemuSpec VictimQemuSpec(const RunNetwork& net, const std::string& kernel, const std::string& initrd,
                        uint32_t memory_mib, uint32_t cpus, const std::string& accel,
                        const VmPaths& paths) {
  return QemuSpec{.name = "victim",
                  .kernel = kernel,
                  .initrd = initrd,
                  .append = GuestParams(GuestRole::kVictim),
                  .memory_mib = memory_mib,
                  .cpus = cpus,
                  .accel = accel,
                  .nics = {ControlNic(kVictimControlPort),
                           {.id = "data0", .mac = kVictimDataMac, .tap_fd = net.victim_tap}},
                  .console_path = paths.out_dir + "/console.log",
                  .qmp_path = paths.work_dir + "/victim-qmp.sock",
                  .log_path = paths.out_dir + "/qemu-victim.log",
                  .netns_fd = net.ns->fd()};
}

QemuSpec WireQemuSpec(const RunNetwork& net, const std::string& kernel, const std::string& initrd,
                      const std::string& accel, const VmPaths& paths) {
  return QemuSpec{.name = "wire",
                  .kernel = kernel,
                  .initrd = initrd,
                  .append = GuestParams(GuestRole::kWire),
                  .memory_mib = kWireMemoryMib,
                  .cpus = 1,
                  .accel = accel,
                  .nics = {ControlNic(kWireControlPort),
                           {.id = "data0", .mac = kWireAMac, .tap_fd = net.wire_a_tap},
                           {.id = "data1", .mac = kWireBMac, .tap_fd = net.wire_b_tap}},
                  .console_path = paths.out_dir + "/wire-console.log",
                  .qmp_path = paths.work_dir + "/wire-qmp.sock",
                  .log_path = paths.out_dir + "/qemu-wire.log",
                  .netns_fd = net.ns->fd()};
}

absl::StatusOr<std::unique_ptr<AgentRelay>> StartAgentRelay(const RunNetwork& net, GuestRole role,
                                                            const std::string& work_dir) {
  bool victim = role == GuestRole::kVictim;
  return AgentRelay::Start(*net.ns, work_dir + (victim ? "/victim-agent.sock" : "/wire-agent.sock"),
                           victim ? kVictimControlPort : kWireControlPort);
}

absl::StatusOr<uint16_t> FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    return absl::UnavailableError("no free port on 127.0.0.1");
  }
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace swapchaos::controller
