#include "controller/plan/plan.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controller/plan/prng.h"
#include "faults/kinds/kind.h"

namespace swapchaos::controller {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

double Tenths(double x) { return std::floor(x * 10) / 10; }

// Sets the numeric field at dotted `path` in `m`; whole-number fields get
// the value rounded. An error in words when the path names no such field.
std::optional<std::string> SetNumber(Message* m, const std::string& path, double value) {
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = m->GetDescriptor()->FindFieldByName(parts[i]);
    if (f == nullptr || f->is_repeated()) {
      return absl::StrCat("no field ", parts[i], " in ", m->GetDescriptor()->name());
    }
    const auto* r = m->GetReflection();
    if (i + 1 < parts.size()) {
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::StrCat(parts[i], " is not a message");
      }
      m = r->MutableMessage(m, f);
      continue;
    }
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_DOUBLE: r->SetDouble(m, f, value); break;
      case FieldDescriptor::CPPTYPE_FLOAT: r->SetFloat(m, f, static_cast<float>(value)); break;
      case FieldDescriptor::CPPTYPE_UINT32:
        r->SetUInt32(m, f, static_cast<uint32_t>(std::llround(std::max(value, 0.0))));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(m, f, static_cast<uint64_t>(std::llround(std::max(value, 0.0))));
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        r->SetInt32(m, f, static_cast<int32_t>(std::llround(value)));
        break;
      case FieldDescriptor::CPPTYPE_INT64: r->SetInt64(m, f, std::llround(value)); break;
      default: return absl::StrCat(parts[i], " is not a number");
    }
  }
  return std::nullopt;
}

// The kind's template with every drawn parameter at its range's `end`
// (0: min, 1: max).
scenario::Fault AtEnd(const scenario::GeneratedFault& g, int end) {
  scenario::Fault f = g.fault();
  for (const scenario::ParamRange& p : g.params()) {
    SetNumber(&f, p.field(), end == 0 ? p.min() : p.max());
  }
  return f;
}

}  // namespace

std::optional<PlanError> CheckGenerator(const scenario::Scenario& s) {
  if (!s.has_generator()) return std::nullopt;
  const scenario::FaultGenerator& g = s.generator();
  if (g.kinds().empty()) return PlanError{"generator.kinds", "names no fault to draw"};
  if (g.count() == 0 || g.count() > 10000) return PlanError{"generator.count", "must be 1..10000"};
  if (g.window_s() <= 0) return PlanError{"generator.window_s", "must be > 0"};
  if (g.window_start_s() < 0) return PlanError{"generator.window_start_s", "must be >= 0"};
  if (g.min_gap_s() < 0) return PlanError{"generator.min_gap_s", "must be >= 0"};
  double longest = 0;
  for (int i = 0; i < g.kinds_size(); ++i) {
    const scenario::GeneratedFault& k = g.kinds(i);
    std::string at = absl::StrCat("generator.kinds[", i, "]");
    if (!(k.weight() > 0)) return PlanError{at + ".weight", "must be > 0"};
    const faults::FaultKind* kind = faults::FindFaultKind(k.fault());
    if (kind == nullptr) return PlanError{at + ".fault", "names no fault kind"};
    if (!(k.for_s().min() > 0 && k.for_s().max() >= k.for_s().min())) {
      return PlanError{at + ".for_s", "needs 0 < min <= max"};
    }
    longest = std::max(longest, k.for_s().max());
    for (int j = 0; j < k.params_size(); ++j) {
      const scenario::ParamRange& p = k.params(j);
      std::string pat = absl::StrCat(at, ".params[", j, "]");
      if (!(p.max() >= p.min())) return PlanError{pat + ".max", "must be >= min"};
      scenario::Fault probe = k.fault();
      if (auto bad = SetNumber(&probe, p.field(), p.min())) return PlanError{pat + ".field", *bad};
    }
    for (int end : {0, 1}) {
      if (auto bad = kind->Validate(AtEnd(k, end))) {
        return PlanError{at + ".fault." + bad->field,
                         absl::StrCat(bad->what, " (with every range at its ",
                                      end == 0 ? "min" : "max", ")")};
      }
    }
  }
  double needed = g.count() * longest + (g.count() - 1) * g.min_gap_s();
  if (needed > g.window_s()) {
    return PlanError{"generator.window_s",
                     absl::StrCat("is too short: ", g.count(), " faults of up to ", longest,
                                  " s with ", g.min_gap_s(), " s gaps need ", needed, " s")};
  }
  double end = g.window_start_s() + g.window_s() + s.oracles().grace_s();
  if (end > s.deadline_s()) {
    return PlanError{"deadline_s", absl::StrCat("is shorter than the generator's window plus the "
                                                "grace period: at least ",
                                                end, " s")};
  }
  return std::nullopt;
}

scenario::Scenario ResolvePlan(const scenario::Scenario& s, uint64_t seed) {
  scenario::Scenario out = s;
  out.clear_generator();
  if (!s.has_generator() || s.generator().count() == 0) return out;
  const scenario::FaultGenerator& g = s.generator();
  Prng rng(seed, "fault schedule");
  std::vector<double> weights;
  for (const auto& k : g.kinds()) weights.push_back(k.weight());

  std::vector<scenario::Fault> drawn;
  double busy = 0;
  for (uint32_t i = 0; i < g.count(); ++i) {
    const scenario::GeneratedFault& k = g.kinds(static_cast<int>(rng.Weighted(weights)));
    scenario::Fault f = k.fault();
    f.set_for_s(std::max(0.1, Tenths(rng.Uniform(k.for_s().min(), k.for_s().max()))));
    for (const scenario::ParamRange& p : k.params()) {
      SetNumber(&f, p.field(), std::round(rng.Uniform(p.min(), p.max()) * 1e4) / 1e4);
    }
    busy += f.for_s();
    drawn.push_back(std::move(f));
  }
  // Sorted offsets in the free time, then the faults laid end to end.
  double free = std::max(0.0, g.window_s() - busy - (g.count() - 1) * g.min_gap_s());
  std::vector<double> offsets;
  for (uint32_t i = 0; i < g.count(); ++i) offsets.push_back(Tenths(rng.Uniform(0, free)));
  std::sort(offsets.begin(), offsets.end());
  double before = 0;  // faults and gaps laid down so far
  for (uint32_t i = 0; i < g.count(); ++i) {
    drawn[i].set_at_s(Tenths(g.window_start_s() + offsets[i] + before + 1e-9));
    before += drawn[i].for_s() + g.min_gap_s();
    *out.add_faults() = std::move(drawn[i]);
  }
  return out;
}

}  // namespace swapchaos::controller
