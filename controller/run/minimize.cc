#include "controller/run/minimize.h"

#include <google/protobuf/descriptor.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "controller/plan/minimize.h"
#include "controller/run/replay.h"

namespace swapchaos::controller {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Every nonzero numeric field below `m`, halved one at a time, as copies of `root`.
void HalveEach(const scenario::Fault& root, Message* m,
               const std::function<Message*(scenario::Fault&)>& locate,
               std::vector<scenario::Fault>* out) {
  const auto* d = m->GetDescriptor();
  const auto* r = m->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!r->HasField(*m, f)) continue;
      HalveEach(
          root, r->MutableMessage(m, f),
          [&locate, f](scenario::Fault& copy) {
            Message* parent = locate(copy);
            return parent->GetReflection()->MutableMessage(parent, f);
          },
          out);
      continue;
    }
    scenario::Fault copy = root;
    Message* target = locate(copy);
    const auto* tr = target->GetReflection();
    bool changed = true;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        double v = tr->GetDouble(*target, f);
        changed = v > 0;
        tr->SetDouble(target, f, v / 2);
        break;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t v = tr->GetUInt32(*target, f);
        changed = v > 0;
        tr->SetUInt32(target, f, v / 2);
        break;
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v = tr->GetUInt64(*target, f);
        changed = v > 0;
        tr->SetUInt64(target, f, v / 2);
        break;
      }
      default:
        changed = false;
    }
    if (changed) out->push_back(std::move(copy));
  }
}

}  // namespace

std::vector<scenario::Fault> SimplerFaults(const scenario::Fault& f) {
  std::vector<scenario::Fault> out;
  if (f.for_s() >= 2) {
    scenario::Fault shorter = f;
    shorter.set_for_s(std::floor(f.for_s() / 2 * 10) / 10);
    out.push_back(shorter);
  }
  const auto* oneof = scenario::Fault::descriptor()->FindOneofByName("kind");
  const FieldDescriptor* kind = f.GetReflection()->GetOneofFieldDescriptor(f, oneof);
  if (kind == nullptr) return out;
  scenario::Fault scratch = f;
  HalveEach(
      f, scratch.GetReflection()->MutableMessage(&scratch, kind),
      [kind](scenario::Fault& copy) { return copy.GetReflection()->MutableMessage(&copy, kind); },
      &out);
  return out;
}

absl::StatusOr<MinimizeReport> Minimize(const std::string& run_dir, const MinimizeOptions& options,
                                        const std::string& out_dir, const BootEnv& env) {
  auto recorded = LoadRecordedRun(run_dir);
  if (!recorded.ok()) return recorded.status();
  if (recorded->verdict.verdict() != "fail") {
    return absl::InvalidArgumentError(absl::StrCat(run_dir, " passed (verdict ",
                                                   recorded->verdict.verdict(),
                                                   "): only a failing run can be minimized"));
  }
  MinimizeReport report;
  report.signature = recorded->verdict.signature();
  const scenario::Scenario& base = recorded->plan.scenario;
  report.faults_before = base.faults_size();
  std::ostream& say = *env.progress;

  std::vector<scenario::Fault> faults(base.faults().begin(), base.faults().end());
  auto with = [&](const std::vector<scenario::Fault>& fs) {
    scenario::Scenario s = base;
    s.clear_faults();
    for (const scenario::Fault& f : fs) *s.add_faults() = f;
    return s;
  };
  std::map<std::string, bool> seen;  // a schedule tried once is not run again
  absl::Status harness_error;
  std::function<bool(const std::vector<scenario::Fault>&)> fails =
      [&](const std::vector<scenario::Fault>& fs) {
        scenario::Scenario s = with(fs);
        std::string key = s.SerializeAsString();
        if (auto it = seen.find(key); it != seen.end()) return it->second;
        if (!harness_error.ok() || report.trial_runs >= options.max_runs) return false;
        std::string dir = absl::StrCat(out_dir, "/trial-", ++report.trial_runs);
        say << "trial " << report.trial_runs << ": " << fs.size() << " faults, into " << dir
            << "\n";
        auto v = RunScenario({s, recorded->plan.where}, recorded->options, dir, env);
        if (!v.ok()) {
          harness_error = v.status();
          return false;
        }
        bool same = v->verdict() == "fail" && v->signature() == report.signature;
        say << "trial " << report.trial_runs << ": " << v->verdict()
            << (v->signature().empty() ? "" : " (" + v->signature() + ")")
            << (same ? ": still fails the same way" : ": not the same failure") << "\n";
        seen[key] = same;
        return same;
      };
  faults = MinimizeList(faults, fails);
  std::function<std::vector<scenario::Fault>(const scenario::Fault&)> simpler = SimplerFaults;
  faults = SimplifyEach(faults, simpler, fails);
  if (!harness_error.ok()) return harness_error;

  report.minimal = with(faults);
  report.minimal.set_name(base.name() + "-minimal");
  report.minimal.set_description(absl::StrCat("minimized from ", run_dir, ": ",
                                              report.faults_before, " faults -> ", faults.size(),
                                              "; fails with \"", report.signature, "\""));
  // JSON is YAML: the strict loader reads this file back as any scenario.
  report.scenario_file = out_dir + "/minimal.yaml";
  std::filesystem::create_directories(out_dir);
  absl::Status written =
      WriteFileAtomically(report.scenario_file,
                          absl::StrCat("# swapchaos minimize ", run_dir, " (seed ",
                                       recorded->options.seed, "); run it with --seed ",
                                       recorded->options.seed, "\n", ToJson(report.minimal), "\n"));
  if (!written.ok()) return written;
  for (int i = 1; i <= options.confirm; ++i) {
    auto v = RunScenario({report.minimal, recorded->plan.where}, recorded->options,
                         absl::StrCat(out_dir, "/confirm-", i), env);
    if (!v.ok()) return v.status();
    ++report.confirm_runs;
    report.confirmed += v->verdict() == "fail" && v->signature() == report.signature;
  }
  return report;
}

}  // namespace swapchaos::controller
