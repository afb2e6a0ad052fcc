#ifndef SWAPCHAOS_CONTROLLER_CERTIFY_CERTIFY_H_
#define SWAPCHAOS_CONTROLLER_CERTIFY_CERTIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/campaign/campaign.h"
#include "controller/dispatch/dispatch.h"
#include "controller/report/listings.h"  // WilsonLower95
#include "controller/store/store.h"
#include "swapchaos/kernel.pb.h"

// Certification: a kernel run against a fixed suite of scenarios over N
// seeds each (as a campaign), and the certificate that says what came of it.
namespace swapchaos::controller {

// A suite directory: its *.yaml scenarios (in name order), each loaded and
// checked, and its identity. Bad input names the file, line and field.
absl::StatusOr<kernels::CertifySuite> LoadSuite(const std::string& dir);

// The campaign file certify runs: every suite scenario x the seeds x the
// kernel's image (empty: the default kernel).
std::string CertifyCampaignYaml(const kernels::CertifySuite& suite, SeedRange seeds,
                                const std::string& image);

// The certificate from the campaign's runs (see Certificate.verdict).
kernels::Certificate MakeCertificate(const kernels::KernelManifest& kernel,
                                     const kernels::CertifySuite& suite,
                                     SeedRange seeds, const std::vector<StoredRun>& runs);

// What `swapchaos certify` asks for.
struct CertifyRequest {
  std::string kernels_dir;  // the kernel cache
  std::string kernel;       // "default", a bzImage, or a cached kernel's name or id
  std::string suite;        // a directory of scenarios
  std::string out;          // empty: runs/certify-<release>-<UTC time>
  SeedRange seeds;
  DispatchOptions dispatch;  // runs_dir is out/runs
};

struct Certification {
  kernels::Certificate certificate;
  std::vector<StoredRun> runs;
  std::string out;  // certificate.json, report.html, junit.xml, campaign.yaml, runs/
};

// The kernel run against the suite as a campaign (out/campaign.yaml: the
// same request with the same out resumes it after any stop), then its
// certificate, report and JUnit written; certificate.json last, so it is
// there only when the rest is. Everything is checked before anything
// starts: bad input is InvalidArgument or NotFound (ClassOf), naming the
// file or flag.
absl::StatusOr<Certification> CertifyKernel(CertifyRequest request, const BootEnv& env);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_CERTIFY_CERTIFY_H_
