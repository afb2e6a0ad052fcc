// Faults applied in real guests: netem over the agent's RPCs (in effect as
// the kernel reports it, refused where it must be, gone after revert), and
// every fault kind through the plant a run gives it: applied, read back as
// asked, reverted.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "controller/run/plant.h"
#include "controller/run/run.h"
#include "controller/vm/topology.h"
#include "faults/kinds/kind.h"
#include "gtest/gtest.h"
#include "testing/run.h"

namespace swapchaos::controller {
namespace {

class FaultsE2ETest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto run = test::StartSmallRun(256 << 20, &progress_);
    ASSERT_TRUE(run.ok()) << run.status() << progress_.str();
    run_ = std::move(*run);
  }
  static void TearDownTestSuite() {
    if (run_) run_->Finish("completed");
    run_.reset();
  }
  void SetUp() override { ASSERT_TRUE(run_) << "the run did not start"; }

  grpc::Status Call(const char* rpc, const agent::NetemRequest& req, agent::NetemState* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto& stub = run_->wire_agent().stub();
    agent::NicRequest nic;
    nic.set_iface(req.iface());
    std::string name = rpc;
    if (name == "apply") return stub.ApplyNetem(&ctx, req, out);
    if (name == "read") return stub.ReadNetem(&ctx, nic, out);
    return stub.RevertNetem(&ctx, nic, out);
  }

  // Applies `f` through its kind, then reverts it; every step must read
  // back as intended.
  void ApplyAndRevert(const scenario::Fault& f) {
    SCOPED_TRACE(f.ShortDebugString());
    RunPlant plant(*run_, 7);
    const faults::FaultKind* kind = faults::FindFaultKind(f);
    ASSERT_NE(kind, nullptr);
    ASSERT_FALSE(kind->Validate(f).has_value());
    std::vector<faults::Outcome> applied = kind->Apply(f, 0, plant);
    ASSERT_FALSE(applied.empty());
    for (const faults::Outcome& o : applied) {
      EXPECT_TRUE(o.status.ok()) << o.target << ": " << o.status;
      EXPECT_TRUE(o.in_effect) << o.target << ": " << o.readback;
      EXPECT_TRUE(o.matches) << o.target << ": " << o.readback;
      std::cout << "applied on " << o.target << ": " << o.readback << "\n";
    }
    for (const faults::Outcome& o : kind->Revert(f, plant, applied)) {
      EXPECT_TRUE(o.status.ok()) << o.target << ": " << o.status;
      EXPECT_TRUE(o.matches) << o.target << ": " << o.readback;
      std::cout << "reverted on " << o.target << ": " << o.readback << "\n";
    }
  }

  // The victim's latest telemetry sample.
  agent::Sample VictimSample() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    agent::TelemetryRequest req;
    req.set_rate_hz(10);
    auto stream = run_->victim_agent().stub().Telemetry(&ctx, req);
    agent::Sample s;
    stream->Read(&s);
    ctx.TryCancel();
    return s;
  }

  static inline std::ostringstream progress_;
  static inline std::unique_ptr<controller::Run> run_;
};

TEST_F(FaultsE2ETest, AppliedReadBackAndReverted) {
  agent::NetemRequest req;
  req.set_iface("data1");
  agent::Netem& n = *req.mutable_netem();
  n.set_delay_us(20000);
  n.set_jitter_us(5000);
  n.set_loss(0.3);
  n.set_loss_correlation(0.25);
  n.set_corrupt(0.01);
  n.set_duplicate(0.02);
  n.set_reorder(0.1);
  n.set_rate_bytes_per_s(10 << 20);
  n.set_seed(1234);
  agent::NetemState state;
  grpc::Status s = Call("apply", req, &state);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(state.present());
  const agent::Netem& got = state.netem();
  EXPECT_EQ(got.delay_us(), 20000u);
  EXPECT_EQ(got.jitter_us(), 5000u);
  EXPECT_NEAR(got.loss(), 0.3, 1e-6);
  EXPECT_NEAR(got.loss_correlation(), 0.25, 1e-6);
  EXPECT_NEAR(got.corrupt(), 0.01, 1e-6);
  EXPECT_NEAR(got.duplicate(), 0.02, 1e-6);
  EXPECT_NEAR(got.reorder(), 0.1, 1e-6);
  EXPECT_EQ(got.rate_bytes_per_s(), 10u << 20);
  // 6.1 predates TCA_NETEM_PRNG_SEED: the read-back says so by leaving it out.
  if (got.has_seed()) {
    EXPECT_EQ(got.seed(), 1234u);
  }
  std::cout << "netem PRNG seed on the wire's kernel: "
            << (got.has_seed() ? "in effect" : "not supported") << "\n";

  ASSERT_TRUE(Call("read", req, &state).ok());
  EXPECT_TRUE(state.present());
  ASSERT_TRUE(Call("revert", req, &state).ok());
  EXPECT_FALSE(state.present());
  // Idempotent: reverting again changes nothing and is no error.
  ASSERT_TRUE(Call("revert", req, &state).ok());
  EXPECT_FALSE(state.present());
}

TEST_F(FaultsE2ETest, GilbertElliottLossReadBack) {
  agent::NetemRequest req;
  req.set_iface("data0");
  req.mutable_netem()->set_ge_p(0.05);
  req.mutable_netem()->set_ge_r(0.4);
  req.mutable_netem()->set_ge_loss_bad(0.9);
  agent::NetemState state;
  grpc::Status s = Call("apply", req, &state);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NEAR(state.netem().ge_p(), 0.05, 1e-6);
  EXPECT_NEAR(state.netem().ge_r(), 0.4, 1e-6);
  EXPECT_NEAR(state.netem().ge_loss_bad(), 0.9, 1e-6);
  EXPECT_NEAR(state.netem().ge_loss_good(), 0.0, 1e-6);
  ASSERT_TRUE(Call("revert", req, &state).ok());
  EXPECT_FALSE(state.present());
}

TEST_F(FaultsE2ETest, RefusedWithTheReason) {
  agent::NetemRequest req;
  agent::NetemState state;
  req.set_iface("ctl0");
  req.mutable_netem()->set_loss(1);
  grpc::Status s = Call("apply", req, &state);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("control NIC"), std::string::npos);

  req.set_iface("data1");
  req.mutable_netem()->set_loss(1.5);
  s = Call("apply", req, &state);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("netem loss"), std::string::npos) << s.error_message();

  req.set_iface("nosuch0");
  req.mutable_netem()->set_loss(0.1);
  s = Call("apply", req, &state);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("nosuch0"), std::string::npos);
  // Nothing was left on the real NIC by the refused requests.
  req.set_iface("data1");
  ASSERT_TRUE(Call("read", req, &state).ok());
  EXPECT_FALSE(state.present());
}

scenario::Fault Fault(void (*fill)(scenario::Fault&)) {
  scenario::Fault f;
  f.set_for_s(1);
  fill(f);
  return f;
}

TEST_F(FaultsE2ETest, WireNetemScopedToNbd) {
  ApplyAndRevert(Fault([](scenario::Fault& f) {
    f.mutable_netem()->set_direction("both");
    f.mutable_netem()->set_scope("nbd");
    f.mutable_netem()->mutable_params()->set_delay_us(5000);
    f.mutable_netem()->mutable_params()->set_loss(0.1);
  }));
}

TEST_F(FaultsE2ETest, Blackhole) {
  ApplyAndRevert(Fault([](scenario::Fault& f) { f.mutable_blackhole()->set_direction("both"); }));
}

TEST_F(FaultsE2ETest, WireLinkDown) {
  ApplyAndRevert(
      Fault([](scenario::Fault& f) { f.mutable_link_down()->set_direction("to_server"); }));
}

TEST_F(FaultsE2ETest, CablePulls) {
  ApplyAndRevert(Fault([](scenario::Fault& f) {
    f.mutable_cable_pull()->set_vm("victim");
    f.mutable_cable_pull()->set_nic("data0");
  }));
  ApplyAndRevert(Fault([](scenario::Fault& f) {
    f.mutable_cable_pull()->set_vm("wire");
    f.mutable_cable_pull()->set_nic("data1");
  }));
}

TEST_F(FaultsE2ETest, LockedSpike) {
  ApplyAndRevert(Fault([](scenario::Fault& f) {
    f.mutable_spike()->set_mib(32);
    f.mutable_spike()->set_mlock(true);
  }));
}

TEST_F(FaultsE2ETest, MinFreeKbytes) {
  ApplyAndRevert(Fault([](scenario::Fault& f) {
    f.mutable_vm_sysctl()->set_name("vm.min_free_kbytes");
    f.mutable_vm_sysctl()->set_value("24576");
  }));
}

TEST_F(FaultsE2ETest, VictimNetem) {
  ApplyAndRevert(Fault([](scenario::Fault& f) {
    f.mutable_victim_netem()->mutable_params()->set_loss(0.05);
  }));
}

TEST_F(FaultsE2ETest, ServerFrozenAndThawed) {
  ApplyAndRevert(Fault([](scenario::Fault& f) { f.mutable_nbd_server()->set_action("freeze"); }));
}

// The server crashes and comes back: the kernel reports the dead link, the
// agent reconnects to the new server, and swap works through it.
TEST_F(FaultsE2ETest, ServerRestartedAndTheVictimReconnects) {
  uint32_t before = VictimSample().nbd_reconnects();
  ApplyAndRevert(Fault([](scenario::Fault& f) { f.mutable_nbd_server()->set_action("restart"); }));
  agent::Sample s;
  for (int i = 0; i < 60; ++i) {
    s = VictimSample();
    if (s.nbd_reconnects() > before) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_GE(s.nbd_link_deaths(), 1u);
  EXPECT_EQ(s.nbd_reconnects(), before + 1);
  // Swap still works: a spike larger than RAM pushes pages out and reads them back.
  agent::SpikeRequest spike;
  spike.set_mib(320);
  spike.set_seconds(5);
  agent::SpikeReply reply;
  grpc::ClientContext ctx;
  ASSERT_TRUE(run_->victim_agent().stub().Spike(&ctx, spike, &reply).ok());
  uint64_t pswpout = 0, pswpin = 0;
  for (int i = 0; i < 120 && (pswpout == 0 || pswpin == 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    s = VictimSample();
    pswpout = s.vmstat().at("pswpout");
    pswpin = s.vmstat().at("pswpin");
  }
  EXPECT_GT(pswpout, 0u);
  EXPECT_GT(pswpin, 0u);
}

// From inside the victim, nothing of the host's answers but the NBD server,
// on any address of the run's network and any port (swap being on is the
// NBD port's answer: a probe would take the place of the victim's session
// in a non-forking server). Resets count as answered-closed: they prove
// the scan got there.
TEST_F(FaultsE2ETest, TheVictimReachesTheNbdServerAlone) {
  auto ip = [](const char* cidr) { return std::string(cidr).substr(0, std::string(cidr).find('/')); };
  struct Target {
    std::string address;
    uint32_t last_port;
    bool resets;  // a host that must be seen answering closed
    const char* what;
  };
  const Target targets[] = {
      {topology::kServerIp, 65535, true, "the server's address in the run's namespace"},
      {ip(topology::kWireB), 65535, true, "the wire, server side"},
      {ip(topology::kWireA), 65535, true, "the wire, victim side"},
      {"10.0.2.2", 65535, false, "QEMU's user network: the host"},
      {"10.0.2.3", 1024, false, "QEMU's user network: its DNS"},
      {"203.0.113.7", 1024, false, "beyond the run's network"},
  };
  for (const Target& t : targets) {
    agent::ScanTcpRequest req;
    req.set_address(t.address);
    req.set_first_port(1);
    req.set_last_port(t.last_port);
    req.set_timeout_ms(300);
    if (t.address == topology::kServerIp) req.add_skip_ports(topology::kNbdPort);
    agent::ScanTcpReply reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(600));
    auto started = std::chrono::steady_clock::now();
    grpc::Status s = run_->victim_agent().stub().ScanTcp(&ctx, req, &reply);
    ASSERT_TRUE(s.ok()) << t.address << ": " << s.error_message();
    std::string open;
    for (uint32_t port : reply.open_ports()) open += " " + std::to_string(port);
    EXPECT_TRUE(open.empty()) << t.what << " (" << t.address << ") answers on" << open;
    EXPECT_EQ(reply.open_ports_size() + reply.refused() + reply.silent() + reply.unreachable(),
              t.last_port - req.skip_ports_size());
    if (t.resets) {
      EXPECT_GT(reply.refused(), 0u) << t.what << ": the scan never got there";
    }
    std::cout << t.address << " (" << t.what << "): " << reply.refused() << " reset, "
              << reply.silent() << " silent, " << reply.unreachable()
              << " unreachable, open:" << (open.empty() ? " none" : open) << "; "
              << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                  started)
                     .count()
              << " s\n";
  }
}

}  // namespace
}  // namespace swapchaos::controller
