#include "controller/certify/certify.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/campaign/campaign.h"
#include "controller/report/report.h"
#include "controller/run/run.h"
#include "controller/scenario/scenario.h"
#include "kernels/build.h"
#include "kernels/hash.h"
#include "proto/json.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;
using kernels::Certificate;
using kernels::CertifySuite;

absl::StatusOr<CertifySuite> LoadSuite(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("suite ", dir, ": no such directory"));
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("suite ", dir, " holds no *.yaml scenario"));
  }
  CertifySuite suite;
  suite.set_dir(fs::absolute(dir).lexically_normal().string());
  kernels::Sha256 whole;
  for (const fs::path& f : files) {
    if (auto loaded = LoadScenario(f.string()); !loaded.ok()) return loaded.status();
    auto digest = kernels::Sha256OfFile(f.string());
    if (!digest.ok()) return digest.status();
    kernels::KernelFile* kf = suite.add_files();
    kf->set_name(f.filename().string());
    kf->set_sha256(*digest);
    whole.Update(absl::StrCat(kf->name(), " ", kf->sha256(), "\n"));
  }
  suite.set_sha256(whole.HexDigest());
  return suite;
}

std::string CertifyCampaignYaml(const CertifySuite& suite, SeedRange seeds,
                                const std::string& image) {
  std::vector<std::string> scenarios;
  for (const kernels::KernelFile& f : suite.files()) {
    scenarios.push_back(absl::StrCat(suite.dir(), "/", f.name()));
  }
  return CampaignYaml(absl::StrCat("Written by swapchaos certify: the suite ", suite.dir(),
                                   " (sha256 ", suite.sha256(), ")."),
                      "certify", scenarios, seeds, image);
}

Certificate MakeCertificate(const kernels::KernelManifest& kernel, const CertifySuite& suite,
                            SeedRange seed_range, const std::vector<StoredRun>& runs) {
  const uint32_t seeds = seed_range.count;
  Certificate c;
  *c.mutable_kernel() = kernel;
  *c.mutable_suite() = suite;
  c.set_seeds(seeds);
  c.set_first_seed(seed_range.first);
  std::map<std::string, kernels::ScenarioResult> by_scenario;
  for (const kernels::KernelFile& f : suite.files()) by_scenario[f.name()].set_scenario(f.name());
  std::map<std::string, kernels::SignatureSeen> signatures;
  int failures = 0, unjudged = 0;
  for (const StoredRun& r : runs) {
    // Not run (certify stopped at its first failure): counted below as
    // not judged, not as a run that went wrong.
    if (r.status != "done" && r.status != "error") continue;
    std::string name = fs::path(r.scenario).filename().string();
    kernels::ScenarioResult& s = by_scenario[name];
    s.set_scenario(name);
    s.set_runs(s.runs() + 1);
    if (r.status == "done" && r.verdict == "pass") {
      s.set_passes(s.passes() + 1);
    } else if (r.status == "done" && r.verdict == "fail") {
      s.set_failures(s.failures() + 1);
      ++failures;
      kernels::SignatureSeen& sig = signatures[r.signature];
      sig.set_signature(r.signature);
      sig.set_count(sig.count() + 1);
      if (std::find(sig.scenarios().begin(), sig.scenarios().end(), name) == sig.scenarios().end()) {
        sig.add_scenarios(name);
      }
      if (sig.example_runs_size() < 3) sig.add_example_runs(r.dir);
    } else {
      s.set_errors(s.errors() + 1);
      ++unjudged;
    }
  }
  for (auto& [name, s] : by_scenario) {
    if (s.runs() < seeds) unjudged += static_cast<int>(seeds - s.runs());
    s.set_pass_rate_lower_95(
        WilsonLower95(static_cast<int>(s.passes()), static_cast<int>(s.passes() + s.failures())));
    *c.add_scenarios() = s;
  }
  std::vector<kernels::SignatureSeen> seen;
  for (auto& [title, s] : signatures) seen.push_back(s);
  std::stable_sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.count() > b.count(); });
  for (auto& s : seen) *c.add_signatures() = s;
  c.set_verdict(failures > 0 ? "not certified" : unjudged > 0 ? "incomplete" : "certified");
  c.set_rule(absl::StrCat(
      "Certified when every run of every scenario (", suite.files_size(), " scenarios x ", seeds,
      " seeds) was judged and passed; one failure is a finding and refuses it; runs that could "
      "not be judged leave it incomplete. ",
      failures, " failed, ", unjudged, " not judged."));
  c.set_issued_at(JsonTimeNow());
  return c;
}

absl::StatusOr<Certification> CertifyKernel(CertifyRequest r, const BootEnv& env) {
  std::ostream& out = *r.dispatch.out;
  auto kernel = kernels::ResolveKernel(r.kernels_dir, r.kernel);
  if (!kernel.ok()) return kernel.status();
  auto suite = LoadSuite(r.suite);
  if (!suite.ok()) return suite.status();
  if (r.out.empty()) r.out = StampedDir("runs/certify-" + kernel->manifest.release());
  std::error_code ec;
  std::filesystem::create_directories(r.out, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("certificate directory ", r.out, ": ", ec.message()));
  }
  // The campaign it runs, as a file: the same command with the same out
  // resumes it after any stop.
  std::string campaign_file = r.out + "/campaign.yaml";
  if (absl::Status st =
          WriteFileAtomically(campaign_file, CertifyCampaignYaml(*suite, r.seeds, kernel->image));
      !st.ok()) {
    return st;
  }
  auto plan = LoadCampaign(campaign_file);
  if (!plan.ok()) return plan.status();
  out << "certifying " << kernel->manifest.release() << " (" << kernel->image << ") against "
      << suite->dir() << ": " << suite->files_size() << " scenarios x seeds " << r.seeds.first
      << ".." << r.seeds.first + r.seeds.count - 1 << "\n";
  r.dispatch.runs_dir = r.out + "/runs";
  auto ran = DispatchCampaign(*plan, r.dispatch, env);
  if (!ran.ok()) {
    return absl::Status(ran.status().code(),
                        absl::StrCat(ran.status().message(), "\n(the same command with --out ",
                                     r.out, " resumes it)"));
  }
  auto runs = ran->store->Runs(ran->id);
  if (!runs.ok()) return runs.status();
  Certification c{MakeCertificate(kernel->manifest, *suite, r.seeds, *runs), *runs, r.out};
  c.certificate.set_campaign_file(std::filesystem::absolute(campaign_file).string());
  c.certificate.set_tool(ToolVersion());
  std::filesystem::copy_file(absl::StrCat(r.out, "/runs/campaign-", ran->id, "-junit.xml"),
                             r.out + "/junit.xml",
                             std::filesystem::copy_options::overwrite_existing, ec);
  // Last, so a certificate.json is there only when the rest is.
  for (absl::Status st :
       {WriteFileAtomically(r.out + "/report.html", CertificateHtml(c.certificate, c.runs, r.out)),
        WriteJsonAtomically(r.out + "/certificate.json", c.certificate)}) {
    if (!st.ok()) return st;
  }
  return c;
}

}  // namespace swapchaos::controller
