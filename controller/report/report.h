#ifndef SWAPCHAOS_CONTROLLER_REPORT_REPORT_H_
#define SWAPCHAOS_CONTROLLER_REPORT_REPORT_H_

#include <string>
#include <vector>

#include "controller/oracles/oracles.h"
#include "controller/store/store.h"
#include "swapchaos/controller.pb.h"
#include "swapchaos/kernel.pb.h"

// Reports: self-contained HTML (inline SVG, no scripts, nothing fetched) and
// JUnit XML for CI systems.
namespace swapchaos::controller {

// One run: verdict and oracles, then timelines of swap traffic, free
// memory, memory PSI and throttled tasks with every fault's window shaded,
// then the fault trace.
std::string RunReportHtml(const History& h, const Verdict& v);

// A campaign: a row per run (scenario, seed, kernel, verdict, signature,
// time), linking each run's report.html.
std::string CampaignReportHtml(const StoredCampaign& c, const std::vector<StoredRun>& runs,
                               const std::string& runs_relative_to);

// A certificate: the verdict and its rule, per-scenario pass counts and
// bounds, the failure signatures, the runs, then each failing run's own
// report (timelines and trace) framed inline.
std::string CertificateHtml(const kernels::Certificate& c, const std::vector<StoredRun>& runs,
                            const std::string& relative_to);

// One testsuite, a testcase per run: a failure carries the signature, an
// error the harness's message, a run not done yet is skipped.
std::string JUnitXml(const StoredCampaign& c, const std::vector<StoredRun>& runs);

// One run for CI systems: a testsuite named `name` with a testcase per
// oracle (a failure carries its signature and evidence, a skip its reason).
// A run with no oracle judged (verdict "error", or a kernel that failed
// before the workload, its reason in the signature) is one testcase "run".
std::string RunJUnitXml(const std::string& name, const Verdict& v);

// The same as KTAP (the kernel's Documentation/dev-tools/ktap.rst), for
// kselftest-style harnesses: the run is test 1, its oracles its subtests,
// its result line the verdict; evidence as diagnostic lines. An "error"
// verdict (ours, not the kernel's) is `not ok ... # ERROR`.
std::string RunKtap(const std::string& name, const Verdict& v);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_REPORT_REPORT_H_
