#include <google/protobuf/descriptor.h>

#include "faults/kinds/kind.h"
#include "gtest/gtest.h"

namespace swapchaos::faults {
namespace {

using scenario::Fault;

TEST(FaultKindsTest, EveryKindInTheSchemaHasItsUnit) {
  const auto* oneof = Fault::descriptor()->FindOneofByName("kind");
  ASSERT_NE(oneof, nullptr);
  for (int i = 0; i < oneof->field_count(); ++i) {
    Fault f;
    f.GetReflection()->MutableMessage(&f, oneof->field(i));
    EXPECT_NE(FindFaultKind(f), nullptr) << oneof->field(i)->name() << " has no kind";
  }
  EXPECT_EQ(FindFaultKind(Fault()), nullptr);
}

struct BadCase {
  const char* what;
  Fault fault;
  const char* field;
};

Fault Make(void (*fill)(Fault&)) {
  Fault f;
  fill(f);
  return f;
}

TEST(FaultKindsTest, ValidationNamesTheField) {
  const BadCase cases[] = {
      {"direction", Make([](Fault& f) { f.mutable_netem()->set_direction("sideways"); }),
       "netem.direction"},
      {"scope", Make([](Fault& f) {
         f.mutable_netem()->set_direction("both");
         f.mutable_netem()->set_scope("udp");
       }),
       "netem.scope"},
      {"loss", Make([](Fault& f) {
         f.mutable_netem()->set_direction("both");
         f.mutable_netem()->mutable_params()->set_loss(1.5);
       }),
       "netem.params"},
      {"blackhole", Make([](Fault& f) { f.mutable_blackhole(); }), "blackhole.direction"},
      {"link", Make([](Fault& f) { f.mutable_link_down()->set_direction("up"); }),
       "link_down.direction"},
      {"cable vm", Make([](Fault& f) { f.mutable_cable_pull()->set_vm("server"); }),
       "cable_pull.vm"},
      {"cable nic", Make([](Fault& f) {
         f.mutable_cable_pull()->set_vm("victim");
         f.mutable_cable_pull()->set_nic("data1");
       }),
       "cable_pull.nic"},
      {"server", Make([](Fault& f) { f.mutable_nbd_server()->set_action("pause"); }),
       "nbd_server.action"},
      {"spike", Make([](Fault& f) { f.mutable_spike(); }), "spike.mib"},
      {"sysctl name", Make([](Fault& f) {
         f.mutable_vm_sysctl()->set_name("kernel.panic");
         f.mutable_vm_sysctl()->set_value("1");
       }),
       "vm_sysctl.name"},
      {"sysctl value", Make([](Fault& f) { f.mutable_vm_sysctl()->set_name("vm.swappiness"); }),
       "vm_sysctl.value"},
      {"victim netem", Make([](Fault& f) {
         f.mutable_victim_netem()->mutable_params()->set_reorder(0.5);
       }),
       "victim_netem.params"},
  };
  for (const BadCase& c : cases) {
    const FaultKind* kind = FindFaultKind(c.fault);
    ASSERT_NE(kind, nullptr) << c.what;
    auto bad = kind->Validate(c.fault);
    ASSERT_TRUE(bad.has_value()) << c.what;
    EXPECT_EQ(bad->field, c.field) << c.what;
    EXPECT_FALSE(bad->what.empty()) << c.what;
  }
}

TEST(FaultKindsTest, GoodFaultsPassAndNameTheirTargets) {
  const std::pair<Fault, std::vector<std::string>> cases[] = {
      {Make([](Fault& f) {
         f.mutable_netem()->set_direction("both");
         f.mutable_netem()->mutable_params()->set_loss(0.2);
       }),
       {"wire data0 qdisc", "wire data1 qdisc"}},
      {Make([](Fault& f) { f.mutable_blackhole()->set_direction("to_server"); }),
       {"wire data1 qdisc"}},
      {Make([](Fault& f) { f.mutable_victim_netem()->set_scope("nbd"); }), {"victim data0 qdisc"}},
      {Make([](Fault& f) { f.mutable_link_down()->set_direction("to_victim"); }),
       {"wire data0 link"}},
      {Make([](Fault& f) {
         f.mutable_cable_pull()->set_vm("wire");
         f.mutable_cable_pull()->set_nic("data1");
       }),
       {"wire data1 cable"}},
      {Make([](Fault& f) { f.mutable_nbd_server()->set_action("restart"); }),
       {"host nbd-server"}},
      {Make([](Fault& f) { f.mutable_spike()->set_mib(64); }), {"victim spike"}},
      {Make([](Fault& f) {
         f.mutable_vm_sysctl()->set_name("vm.min_free_kbytes");
         f.mutable_vm_sysctl()->set_value("65536");
       }),
       {"victim vm.min_free_kbytes"}},
  };
  for (const auto& [fault, targets] : cases) {
    const FaultKind* kind = FindFaultKind(fault);
    ASSERT_NE(kind, nullptr);
    auto bad = kind->Validate(fault);
    EXPECT_FALSE(bad.has_value()) << fault.ShortDebugString() << ": " << bad->field;
    EXPECT_EQ(kind->Targets(fault), targets) << fault.ShortDebugString();
  }
}

}  // namespace
}  // namespace swapchaos::faults
