#include "controller/report/listings.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace swapchaos::controller {

double WilsonLower95(int passes, int runs) {
  if (runs <= 0) return 0;
  const double z = 1.959963984540054, n = runs, p = static_cast<double>(passes) / n;
  double centre = p + z * z / (2 * n);
  double margin = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  return std::max(0.0, (centre - margin) / (1 + z * z / n));
}

RunTally Tally(const std::vector<StoredRun>& runs) {
  RunTally t;
  for (const StoredRun& r : runs) {
    RunTally::Counts& c =
        t.by_scenario_kernel[{std::filesystem::path(r.scenario).filename().string(),
                              r.kernel.empty() ? "default" : r.kernel}];
    if (c.kernel_label.empty() || !r.kernel_release.empty()) {
      c.kernel_label = r.kernel_release.empty() ? (r.kernel.empty() ? "default" : r.kernel)
                                                : r.kernel_release;
    }
    if (r.status == "done" && r.verdict == "pass") ++c.pass;
    if (r.status == "done" && r.verdict == "fail") {
      ++c.fail;
      t.failures[r.signature].push_back(&r);
    }
    if (r.status == "error") ++c.error;
    if (r.status == "pending" || r.status == "running") ++c.pending;
  }
  return t;
}

RunRecord ToRunRecord(const StoredRun& r) {
  RunRecord out;
  out.set_id(r.id);
  out.set_campaign(r.campaign);
  out.set_scenario(r.scenario);
  out.set_seed(r.seed);
  out.set_kernel(r.kernel);
  out.set_status(r.status);
  out.set_verdict(r.verdict);
  out.set_signature(r.signature);
  out.set_error(r.error);
  out.set_dir(r.dir);
  out.set_attempts(static_cast<uint32_t>(r.attempts));
  out.set_wall_s(r.wall_s);
  return out;
}

CampaignStatus ToCampaignStatus(const StoredCampaign& c, const std::vector<StoredRun>& runs) {
  CampaignStatus out;
  out.set_id(c.id);
  out.set_name(c.name);
  out.set_file(c.file);
  out.set_file_sha256(c.file_sha256);
  out.set_created_at(c.created_at);
  out.set_finished_at(c.finished_at);
  out.set_total(static_cast<uint32_t>(c.total));
  out.set_done(static_cast<uint32_t>(c.done));
  out.set_running(static_cast<uint32_t>(c.running));
  out.set_failed(static_cast<uint32_t>(c.failed));
  out.set_errors(static_cast<uint32_t>(c.errors));
  for (const StoredRun& r : runs) *out.add_runs() = ToRunRecord(r);
  return out;
}

FailureSignature ToFailureSignature(const FailureSummary& f) {
  FailureSignature out;
  out.set_signature(f.signature);
  out.set_count(static_cast<uint32_t>(f.count));
  out.set_first_seen(f.first_seen);
  out.set_last_seen(f.last_seen);
  for (const std::string& k : f.kernels) out.add_kernels(k);
  for (const std::string& d : f.example_dirs) out.add_example_dirs(d);
  return out;
}

}  // namespace swapchaos::controller
