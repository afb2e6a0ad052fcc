#include "controller/scenario/scenario.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "controller/plan/plan.h"
#include "faults/kinds/kind.h"

namespace swapchaos::controller {
namespace {

constexpr int kMaxFaults = 10000;

void Complete(scenario::Scenario& s) {
  auto& vm = *s.mutable_vm();
  if (vm.memory_mib() == 0) vm.set_memory_mib(512);
  if (vm.cpus() == 0) vm.set_cpus(2);
  if (s.swap().size_mib() == 0) s.mutable_swap()->set_size_mib(1024);
  if (!s.swap().has_min_free_kbytes()) {
    s.mutable_swap()->set_min_free_kbytes(DefaultMinFreeKbytes(vm.memory_mib()));
  }
  auto& w = *s.mutable_workload();
  if (w.procs_per_cpu() == 0) w.set_procs_per_cpu(8);
  if (w.ram_multiple() == 0) w.set_ram_multiple(4);
  if (w.passes() == 0) w.set_passes(3);
  // TCP backs off up to 120 s between retransmissions after a long cut.
  if (!s.has_oracles() || s.oracles().grace_s() == 0) s.mutable_oracles()->set_grace_s(150);
}

// The kinds a fault may name: the fields of Fault's `kind` oneof.
std::string KindNames() {
  const auto* oneof = scenario::Fault::descriptor()->FindOneofByName("kind");
  std::string out;
  for (int i = 0; i < oneof->field_count(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ", ", oneof->field(i)->name());
  }
  return out;
}

}  // namespace

uint32_t DefaultMinFreeKbytes(uint32_t memory_mib) { return memory_mib * 1024 / 20; }

bool IsPlainName(const std::string& name) {
  if (name.empty() || name.size() > 64 || !absl::ascii_isalnum(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

absl::Status CheckScenario(const scenario::Scenario& s, const SourceMap& where) {
  auto check = [&](bool ok, const std::string& path, const std::string& what) {
    return ok ? absl::OkStatus() : where.Error(path, what);
  };
  const std::pair<bool, std::pair<const char*, const char*>> rules[] = {
      {s.vm().memory_mib() >= 128 && s.vm().memory_mib() <= 16384,
       {"vm.memory_mib", "must be 128..16384"}},
      {s.vm().cpus() >= 1 && s.vm().cpus() <= 64, {"vm.cpus", "must be 1..64"}},
      {s.swap().size_mib() >= 16, {"swap.size_mib", "must be at least 16"}},
      {s.swap().min_free_kbytes() == 0 || (s.swap().min_free_kbytes() >= 128 &&
                                           s.swap().min_free_kbytes() <= s.vm().memory_mib() * 256),
       {"swap.min_free_kbytes",
        "must be 0 (the kernel's own) or 128 up to a quarter of vm.memory_mib"}},
      {s.swap().watermark_boost_factor() <= 1000000,
       {"swap.watermark_boost_factor", "must be 0..1000000 (the kernel's default: 15000)"}},
      {s.workload().ram_multiple() > 0 && s.workload().ram_multiple() <= 64,
       {"workload.ram_multiple", "must be in (0, 64]"}},
      {s.deadline_s() > 0, {"deadline_s", "is required: when the run must be over"}},
      {s.name().empty() || IsPlainName(s.name()), {"name", kPlainNameRule}},
  };
  for (const auto& [ok, rule] : rules) {
    if (absl::Status st = check(ok, rule.first, rule.second); !st.ok()) return st;
  }

  if (s.faults_size() > kMaxFaults) {
    return where.Error("faults", absl::StrCat("more than ", kMaxFaults, " faults"));
  }
  struct Span {
    double from, to;
    int index;
  };
  std::map<std::string, std::vector<Span>> by_target;
  double last_heal = 0;
  for (int i = 0; i < s.faults_size(); ++i) {
    const scenario::Fault& f = s.faults(i);
    std::string path = absl::StrCat("faults[", i, "]");
    const faults::FaultKind* kind = faults::FindFaultKind(f);
    if (absl::Status st = check(kind != nullptr, path,
                                absl::StrCat("names no fault kind (one of: ", KindNames(), ")"));
        !st.ok()) {
      return st;
    }
    if (absl::Status st = check(f.at_s() >= 0, path + ".at_s", "must be >= 0"); !st.ok()) return st;
    if (absl::Status st = check(f.for_s() > 0, path + ".for_s", "must be > 0"); !st.ok()) return st;
    last_heal = std::max(last_heal, f.at_s() + f.for_s());
    if (auto bad = kind->Validate(f)) return where.Error(path + "." + bad->field, bad->what);
    for (const std::string& target : kind->Targets(f)) {
      by_target[target].push_back({f.at_s(), f.at_s() + f.for_s(), i});
    }
  }
  // One fault per target at a time: a second netem would silently replace
  // the first. Sorted by start, a fault overlaps an earlier-starting one iff
  // it starts before the latest end so far (n log n: 20,000 faults took 16 s
  // pairwise).
  struct Clash {
    int later, earlier;
    std::string target;
  };
  std::optional<Clash> first;
  for (auto& [target, spans] : by_target) {
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return std::tie(a.from, a.index) < std::tie(b.from, b.index);
    });
    const Span* latest = nullptr;
    for (const Span& span : spans) {
      if (latest != nullptr && span.from < latest->to) {
        Clash c{std::max(span.index, latest->index), std::min(span.index, latest->index), target};
        if (!first || std::tie(c.later, c.earlier) < std::tie(first->later, first->earlier))
          first = c;
      }
      if (latest == nullptr || span.to > latest->to) latest = &span;
    }
  }
  if (first) {
    const scenario::Fault& g = s.faults(first->earlier);
    return where.Error(absl::StrCat("faults[", first->later, "]"),
                       absl::StrCat("overlaps faults[", first->earlier, "] (", g.at_s(), "..",
                                    g.at_s() + g.for_s(), " s) on ", first->target));
  }
  if (auto bad = CheckGenerator(s)) return where.Error(bad->field, bad->what);
  double needed = last_heal + s.oracles().grace_s();
  return check(s.deadline_s() >= needed, "deadline_s",
               absl::StrCat("is shorter than the timeline: the last fault heals at ", last_heal,
                            " s and the grace period adds ", s.oracles().grace_s(),
                            " s, so at least ", needed, " s"));
}

absl::StatusOr<LoadedScenario> ParseScenario(const std::string& yaml_text,
                                             const std::string& file_name) {
  LoadedScenario loaded{scenario::Scenario(), SourceMap(file_name)};
  if (absl::Status s = YamlToProto(yaml_text, &loaded.scenario, &loaded.where); !s.ok()) return s;
  Complete(loaded.scenario);
  if (absl::Status s = CheckScenario(loaded.scenario, loaded.where); !s.ok()) return s;
  return loaded;
}

absl::StatusOr<LoadedScenario> LoadScenario(const std::string& path) {
  auto text = ReadInputFile(path, "scenario");
  if (!text.ok()) return text.status();
  return ParseScenario(*text, path);
}

}  // namespace swapchaos::controller
