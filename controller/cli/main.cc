// swapchaos: the command line. Only composes the controller's libraries.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "controller/bisect/bisect.h"
#include "controller/campaign/campaign.h"
#include "controller/campaign/import.h"
#include "controller/certify/certify.h"
#include "controller/cli/flags.h"
#include "controller/cli/usage.h"
#include "controller/report/kcidb.h"
#include "controller/report/listings.h"
#include "controller/report/report.h"
#include "controller/run/boot.h"
#include "controller/run/chaos.h"
#include "controller/run/failure.h"
#include "controller/run/minimize.h"
#include "controller/run/replay.h"
#include "controller/scenario/scenario.h"
#include "controller/service/client.h"
#include "controller/service/listener.h"
#include "controller/service/service.h"
#include "controller/slurm/slurm.h"
#include "controller/store/db.h"
#include "controller/store/store.h"
#include "kernels/build.h"

namespace {
namespace fs = std::filesystem;
using swapchaos::controller::Flags;
using swapchaos::controller::Placement;

constexpr int kExitOk = 0;
constexpr int kExitBadInput = 2;
constexpr int kExitInfra = 3;

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

constexpr char kUsage[] = R"(usage: swapchaos COMMAND [FLAGS]

commands:
  boot     boot a run's two VMs (victim with swap over NBD through the wire),
           print the victim's memory and swap figures until --duration or
           Ctrl-C, then shut everything down.
  run SCENARIO [--seed N] [--telemetry-hz N] [--out DIR] [--junit FILE] [--ktap]
      [--cache DIR] [--agent PATH]
           (--out defaults to runs/<scenario name>-<UTC time>)
           the main job: boot the scenario's VMs, run its workload, apply and
           revert its faults (wire, host, victim), then judge the run
           (verdict.json; also the time to recover after the last heal and
           the victim agent's footprint).
           --junit FILE: the run as JUnit XML (a testcase per oracle);
           --ktap: the run as KTAP on stdout (the oracles as subtests, the
           verdict as the result; every other line goes to stderr).
           Exit 0 pass, 1 fail (the kernel failed an oracle), 2 bad input,
           3 infrastructure error.
  minimize RUN [--max-runs N] [--confirm N] [--out DIR] [--cache DIR] [--agent PATH]
           (--out defaults to RUN/minimize-<UTC time>)
           shrink a failing run's schedule while the same signature comes back
           (drop faults, then shorten them and halve their parameters; at most
           --max-runs trial runs, default 20), write it as OUT/minimal.yaml and
           run that --confirm times (default 3) to say how reliably it fails.
  campaign FILE [--jobs N] [--store URL] [--runs DIR] [--cache DIR] [--agent PATH]
           [--slurm] [--workers N] [--partition P] [--sbatch ARG]... [--lease S]
           [--controller ADDR]
           every scenario x seed x kernel of a campaign file, N runs at once
           (bounded by cores and memory), recorded in the store (default
           runs/store.db; results in --runs, default runs/<campaign name>).
           --store takes an SQLite path (or sqlite:PATH) or a PostgreSQL URL,
           postgresql://[user@]host[:port]/db (the password from ~/.pgpass or
           PGPASSWORD, never in the URL): the store is also the run queue.
           --slurm: the runs go to a Slurm job array of N workers (default
           4; `swapchaos worker`, 2 CPUs each) instead of this host; the job
           script is kept in --runs as slurm-campaign-<id>.sh; this command
           watches the store, resubmits if the jobs end with runs left, and
           scancels them on Ctrl-C.
           Started again after any stop (Ctrl-C, SIGKILL), the same file
           resumes: runs in flight then run again, none is counted twice.
           Exit 0 all pass, 1 some fail, 2 bad input, 3 ours.
           With a controller running (swapchaos serve; --controller ADDR,
           default unix:runs/controller.sock), the campaign is submitted to
           it and watched; otherwise it runs in this process.
  serve [--listen unix:PATH] [--store URL] [--cache DIR] [--agent PATH]
           the controller as a gRPC service (default unix:runs/controller.sock):
           submit and watch campaigns, list runs, replay. SIGTERM or Ctrl-C
           stops it; its campaigns resume when submitted again.
  worker [--store URL] [--campaign ID] [--jobs N] [--runs DIR] [--max-runs N] [--lease S]
         [--cache DIR] [--agent PATH]
           claim pending runs from the store and run them (N at once, bounded
           by cores and memory) until none is left, alongside workers on other
           hosts; a run held by a worker that died is claimed again once its
           lease (S seconds, default 60, renewed while it runs) runs out, and
           only its holder records it: each run once. --campaign: only that
           campaign's runs (default: any unfinished campaign). Each run in
           DIR/<run id>.<attempt> (default runs/worker). The worker that
           finishes a campaign's last run writes its reports. SIGTERM or
           Ctrl-C releases its runs. Exit 0 none left, 2 bad input, 3 ours
           (the store unreachable).
  store import SOURCE... [--store URL]
           every campaign of other stores (another host's SQLite file, a
           PostgreSQL URL) with its runs and their files into this store,
           under new ids; runs in flight there are pending here. A SOURCE
           that is a run directory (run --out), or a directory of them,
           comes in as one campaign named after it. What was imported
           before is skipped.
  store fetch RUN [--store URL] [--out DIR]
           a stored run's result files (meta, scenario, verdict, trace,
           telemetry, report, a failure's console tail) into DIR (default
           runs/fetched/<id>.<attempt>): read, report and replay a run made
           on another host.
  campaign status [--store URL] [--json]
           every campaign in the store, with pass/fail per scenario and kernel
           (--json: one document with every run; schema in output.proto).
  failures [--store URL] [--json]
           failure signatures across every run: count, first and last seen,
           kernels, example runs.
  export kcidb [--store URL] [--campaign ID] [--origin NAME]
           the store's finished runs (--campaign: one campaign's, a
           certification's say) as one KCIDB report on stdout, for
           KernelCI's results database: a build per kernel image, a test per
           run (swapchaos.<scenario>: PASS, FAIL, ERROR), I/O schema v5.3;
           --origin names this CI system (default swapchaos).
  analyze DIR [--junit FILE] [--ktap]
           judge a finished run again from its files alone (--junit, --ktap:
           as for run).
  replay RUN [--times N] [--out DIR] [--controller ADDR] [--cache DIR] [--agent PATH]
           (--out defaults to RUN/replay-<UTC time>)
           run a finished run's recorded plan again (the schedule it drew, its
           seed, the same kernel image) N times; says how often the original
           verdict and signature came back. Exit 0 every time, 1 not every
           time, 2 bad input (an unfinished run, a changed kernel), 3 ours.
           With a controller running, the controller replays it.
  certify --kernel default|BZIMAGE|NAME|ID [--suite DIR] [--seeds N|A..B] [--jobs N]
          [--max-failures N] [--out DIR] [--store URL] [--kernels DIR] [--json]
          [--slurm [--workers N] [--partition P] [--sbatch ARG]...] [--lease S]
           run every scenario of the suite (default: scenarios/certify of
           the install, or of the source tree) with seeds 1..N (default 3)
           or A..B on the kernel, as a campaign, and write
           OUT/certificate.json (the kernel's manifest, per scenario passes
           out of runs and a 95% lower bound on the pass rate, failure
           signatures with example runs, the suite's sha256, the verdict),
           junit.xml and report.html (default OUT: runs/certify-<release>-<UTC
           time>; the same --out resumes). Runs go seed by seed, every scenario
           at seed 1 first, and stop at the first failing run, which settles
           the verdict (--max-failures N: after N; 0: run every one, and the
           same --out with 0 runs the rest). Exit 0 certified, 1 not certified
           (a run failed), 2 bad input, 3 incomplete or ours. --json: the
           certificate on stdout, the progress on stderr.
  bisect --kernel-source TARBALL|GIT_TREE --series DIR --scenario FILE [--seeds N|A..B]
         [--config FRAGMENT,...] [--jobs N] [--out DIR] [--store URL] [--kernels DIR]
         [--slurm [--workers N] [--partition P] [--sbatch ARG]...] [--lease S]
           find the first patch of the series after which the scenario fails:
           a kernel per step (built as kernel build does, cached), the
           scenario over seeds 1..N (default 3) on each, the whole series
           first (its failure signatures are the target), then none, then
           halving. Prints each step's passes out of runs and signatures, and
           writes OUT/bisect.json (default runs/bisect-<UTC time>; the same
           --out resumes). Exit 0 a patch found, 1 none (the series passes,
           or the source fails without it), 2 bad input, 3 ours.
  kernel build --source TARBALL|GIT_TREE [--series DIR] [--config FRAGMENT,...]
               [--name NAME] [--jobs N] [--kernels DIR]
           build a kernel to test: the source (e.g. Debian's
           /usr/src/linux-source-6.1.tar.xz) with the patch series applied,
           configured as tinyconfig + kernels/configs/swapchaos.config + the
           fragments, checked for every option asked, compiled out of tree
           (ccache when installed) into the kernel cache (default CACHE/kernels),
           named by the identity of its inputs: built once, found after.
  kernel import --image BZIMAGE [--modules DIR] [--name NAME] [--kernels DIR]
           a prebuilt image (and its modules) into the kernel cache.
  kernel list [--kernels DIR] [--json]
  kernel show NAME|ID [--kernels DIR] [--json]
           the cached kernels; one kernel's manifest (source, patches,
           fragments, compiler, image) and its bzImage path, for a scenario's
           vm.kernel or a campaign's kernels.
  check SCENARIO... [--json]
           load and validate scenario files (YAML, see scenarios/); each
           error names file:line:column and the field. Starts nothing.
           --json: one document, a result per file.
  completion bash
           a bash completion script for swapchaos, made from this usage
           (the package installs it; by hand: source <(swapchaos completion
           bash)).
  manpage
           this usage as a man page, swapchaos(1) (the package installs it;
           by hand: swapchaos manpage | man -l -).

swapchaos boot flags:
  --kernel PATH          kernel under test (bzImage); default: the newest
                         /boot/vmlinuz-*-cloud-amd64
  --modules DIR          its modules; default /lib/modules/<release>
  --memory MIB           victim RAM (default 512)
  --cpus N               victim vCPUs (default 2)
  --swap-size SIZE       NBD swap export, e.g. 1G (default 1G)
  --request-timeout S    NBD request timeout; 0 = kernel default (default 0)
  --dead-conn-timeout S  NBD dead-connection timeout (default 0)
  --min-free-kbytes KIB  the victim's vm.min_free_kbytes before swapon; 0 = the
                         kernel's own (default: 5% of --memory)
  --spike MIB            start a memory spike of MIB in the victim (default 0: none)
  --duration S           seconds to run once swap is on; 0 = until Ctrl-C (default 0)
  --telemetry-hz N       telemetry samples per second (default 2)
  --boot-timeout S       seconds a guest may take to answer; one silent on its
                         console for min(60, S) has a kernel that does not boot
                         (default 300)
  --out DIR              results: console.log, wire-console.log, telemetry.jsonl,
                         wire-telemetry.jsonl, meta.json, the QEMU and nbd-server
                         logs (default runs/boot-<UTC time>); must be new or empty
  --cache DIR            guest image cache (default $SWAPCHAOS_CACHE or ~/.cache/swapchaos)
  --agent PATH           swapchaos-agent binary (default: beside this program)

exit status: 0 ok, 2 bad input, 3 infrastructure error
)";

// `command`'s part of kUsage: its entries (a command's first line starts
// with two spaces and its name; its other lines are indented further), and
// for boot its flags. Empty for an unknown command.
std::string CommandHelp(const std::string& command) {
  std::string out;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(kUsage, '\n')) {
    if (absl::StartsWith(line, "  ") && line.size() > 2 && absl::ascii_isalpha(line[2])) {
      absl::string_view name = line.substr(2);
      in = absl::StartsWith(name, command) &&
           (name.size() == command.size() || name[command.size()] == ' ');
    } else if (!absl::StartsWith(line, "  ")) {
      in = command == "boot" && absl::StartsWith(line, "swapchaos boot flags:");
      if (in) absl::StrAppend(&out, "\n");
    }
    if (in) absl::StrAppend(&out, line, "\n");
  }
  return out.empty() ? "" : absl::StrCat("usage: swapchaos ", command, " ...\n\n", out);
}

// `command`'s synopses from its help, one line each (a description,
// indented further and not a flag, left out): what a usage error shows.
std::string CommandSynopsis(const std::string& command) {
  std::vector<std::string> entries;
  for (absl::string_view line : absl::StrSplit(CommandHelp(command), '\n')) {
    absl::string_view body = absl::StripLeadingAsciiWhitespace(line);
    if (absl::StartsWith(line, "  ") && line.size() > 2 && absl::ascii_isalpha(line[2])) {
      // "  boot     boot a run's two VMs": the name, not the description.
      entries.emplace_back(line.substr(2, line.find("   ", 2) - 2));
      if (command == "boot") entries.back() += " [FLAGS] (swapchaos boot --help)";
    } else if (absl::StartsWith(body, "[") && !entries.empty()) {
      absl::StrAppend(&entries.back(), " ", body);
    }
  }
  if (entries.empty()) return "";
  return absl::StrCat("usage: swapchaos ", absl::StrJoin(entries, "\n       swapchaos "));
}

std::string DefaultCacheDir() {
  if (const char* c = std::getenv("SWAPCHAOS_CACHE")) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME")) return absl::StrCat(x, "/swapchaos");
  if (const char* h = std::getenv("HOME")) return absl::StrCat(h, "/.cache/swapchaos");
  return "/var/cache/swapchaos";
}

// Installed (`cmake --install`, the .deb), the program's data sits under
// its prefix; run from a build tree, in the source tree it was built from.
// Never relative to the working directory.
fs::path SelfDir() { return fs::read_symlink("/proc/self/exe").parent_path(); }
std::optional<std::string> Installed(const std::string& under_prefix) {
  std::error_code ec;
  fs::path p = (SelfDir() / ".." / under_prefix).lexically_normal();
  if (!fs::exists(p, ec)) return std::nullopt;
  return p.string();
}
std::string DefaultAgentPath() {
  std::string beside = (SelfDir() / "swapchaos-agent").string();
  std::error_code ec;
  if (fs::exists(beside, ec)) return beside;
  return Installed(SWAPCHAOS_INSTALL_LIBEXECDIR "/swapchaos-agent").value_or(beside);
}
std::string DefaultSuite() {
  return Installed(SWAPCHAOS_INSTALL_DATADIR "/scenarios/certify")
      .value_or(SWAPCHAOS_SOURCE_DIR "/scenarios/certify");
}

// The command being run, for usage errors.
std::string g_command;

int Fail(int code, const std::string& msg) {
  std::cerr << "swapchaos: " << msg << "\n";
  return code;
}

// A command line the command cannot take: the problem, then its usage.
int FailUsage(const absl::Status& s) {
  std::string usage = CommandSynopsis(g_command);
  return Fail(kExitBadInput, absl::StrCat(s.message(), usage.empty() ? "" : "\n", usage));
}

// Ends a command that failed: the exit status from whose failure it was
// (the kernel's, the user's input, ours), never guessed from the message.
int FailWith(const absl::Status& s) {
  using swapchaos::controller::FailureClass;
  FailureClass c = swapchaos::controller::ClassOf(s);
  std::string msg(s.message());
  if (auto record = swapchaos::controller::KernelFailureRecord(s)) {
    msg = absl::StrCat("the kernel under test failed: ", record->kernel_failure(), "\n", msg);
  }
  return Fail(swapchaos::controller::ExitCode(c), msg);
}

// The environment of a run from the --cache and --agent flags; Ctrl-C and
// SIGTERM stop it in order.
swapchaos::controller::BootEnv BootEnvFrom(const Flags& flags) {
  swapchaos::controller::BootEnv env;
  env.cache_dir = flags.Get("cache");
  env.agent_path = flags.Get("agent");
  env.stop_requested = [] { return g_stop.load(); };
  env.progress = &std::cout;
  return env;
}

int Boot(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {{"kernel", ""},
                                   {"modules", ""},
                                   {"memory", "512"},
                                   {"cpus", "2"},
                                   {"swap-size", "1G"},
                                   {"request-timeout", "0"},
                                   {"dead-conn-timeout", "0"},
                                   {"min-free-kbytes", "auto"},
                                   {"spike", "0"},
                                   {"duration", "0"},
                                   {"telemetry-hz", "2"},
                                   {"boot-timeout", "300"},
                                   {"out", swapchaos::controller::DefaultOutDir("boot")},
                                   {"cache", DefaultCacheDir()},
                                   {"agent", DefaultAgentPath()}});
  if (!flags.ok()) return FailUsage(flags.status());
  swapchaos::controller::BootRequest req;
  absl::Status bad;
  auto uint_flag = [&](const std::string& name, auto set) {
    auto v = flags->GetUint(name);
    if (!v.ok()) {
      bad.Update(v.status());
    } else {
      set(*v);
    }
  };
  req.mutable_victim()->set_kernel(flags->Get("kernel"));
  req.mutable_victim()->set_modules_dir(flags->Get("modules"));
  uint_flag("memory", [&](uint32_t v) { req.mutable_victim()->set_memory_mib(v); });
  uint_flag("cpus", [&](uint32_t v) { req.mutable_victim()->set_cpus(v); });
  uint_flag("request-timeout", [&](uint32_t v) { req.mutable_swap()->set_request_timeout_s(v); });
  uint_flag("dead-conn-timeout",
            [&](uint32_t v) { req.mutable_swap()->set_dead_conn_timeout_s(v); });
  uint_flag("spike", [&](uint32_t v) { req.set_spike_mib(v); });
  if (flags->Get("min-free-kbytes") == "auto") {
    req.mutable_swap()->set_min_free_kbytes(
        swapchaos::controller::DefaultMinFreeKbytes(req.victim().memory_mib()));
  } else {
    uint_flag("min-free-kbytes", [&](uint32_t v) { req.mutable_swap()->set_min_free_kbytes(v); });
  }
  uint_flag("duration", [&](uint32_t v) { req.set_duration_s(v); });
  uint_flag("telemetry-hz", [&](uint32_t v) { req.set_telemetry_hz(v); });
  uint_flag("boot-timeout", [&](uint32_t v) { req.set_boot_timeout_s(v); });
  auto swap_size = flags->GetSize("swap-size");
  if (!swap_size.ok()) bad.Update(swap_size.status());
  if (!bad.ok()) return Fail(kExitBadInput, std::string(bad.message()));
  req.mutable_swap()->set_size_bytes(*swap_size);
  req.set_out_dir(flags->Get("out"));
  if (access(flags->Get("agent").c_str(), X_OK) != 0) {
    return Fail(kExitBadInput, absl::StrCat("--agent ", flags->Get("agent"),
                                            ": not an executable (build it, or pass --agent)"));
  }

  absl::Status s = swapchaos::controller::RunBoot(req, BootEnvFrom(*flags));
  if (s.ok()) {
    std::cout << "results in " << req.out_dir() << "\n";
    return kExitOk;
  }
  return FailWith(s);
}

constexpr int kExitFail = 1;

// How a judged run is told: to people (stdout, or stderr when stdout
// carries KTAP), and for machines (--ktap on stdout, --junit FILE).
struct RunOutput {
  std::string name;  // the scenario's, as KTAP's and JUnit's test name
  bool ktap = false;
  std::string junit;
};

int Report(const absl::StatusOr<swapchaos::controller::Verdict>& judged, const std::string& dir,
           const RunOutput& output = {}) {
  using swapchaos::controller::FailureClass;
  swapchaos::controller::Verdict v;
  if (judged.ok()) {
    v = *judged;
  } else {
    // Not judged by the oracles: the kernel's failure before the workload,
    // or ours; either is still one run's result for a harness.
    auto record = swapchaos::controller::KernelFailureRecord(judged.status());
    v.set_verdict(record ? "fail" : "error");
    v.set_signature(record ? record->kernel_failure() : std::string(judged.status().message()));
    v.set_tool(swapchaos::controller::ToolVersion());
  }
  if (!output.junit.empty()) {
    absl::Status st = swapchaos::controller::WriteFileAtomically(
        output.junit, swapchaos::controller::RunJUnitXml(output.name, v));
    if (!st.ok()) std::cerr << "swapchaos: " << st.message() << "\n";
  }
  if (output.ktap) std::cout << swapchaos::controller::RunKtap(output.name, v);
  if (!judged.ok()) return FailWith(judged.status());
  std::ostream& out = output.ktap ? std::cerr : std::cout;
  for (const auto& o : v.oracles()) {
    out << "  " << o.outcome() << "  " << o.name() << ": " << o.evidence() << "\n";
  }
  if (v.recovered_after_s() >= 0) {
    out << "recovered " << v.recovered_after_s() << " s after the last heal\n";
  }
  if (v.victim_agent().locked_kib_max() > 0) {
    out << "victim agent: " << (v.victim_agent().locked_kib_max() >> 10)
        << " MiB locked at most, " << v.victim_agent().cpu_share() * 100 << "% of a vCPU at "
        << v.victim_agent().telemetry_hz() << " Hz telemetry\n";
  }
  if (v.controller_cpu_share() > 0) {
    out << "controller: " << v.controller_cpu_share() * 100 << "% of a core over the run\n";
  }
  out << "verdict: " << v.verdict() << (v.signature().empty() ? "" : " (" + v.signature() + ")")
      << "; " << dir << "/verdict.json\n";
  return v.verdict() == "pass" ? kExitOk : kExitFail;
}

// What the commands that run VMs share: a first argument (a file or a run
// directory), flags with --cache and --agent among them, and the BootEnv
// those give.
struct VmCommand {
  std::string arg;
  Flags flags;
  swapchaos::controller::BootEnv env;
};

absl::StatusOr<VmCommand> ParseVmCommand(const std::vector<std::string>& args, const char* needs,
                                         std::map<std::string, std::string> known,
                                         const std::set<std::string>& switches = {}) {
  if (args.empty() || args[0].starts_with("--")) return absl::InvalidArgumentError(needs);
  known.emplace("cache", DefaultCacheDir());
  known.emplace("agent", DefaultAgentPath());
  auto flags = Flags::Parse(std::vector<std::string>(args.begin() + 1, args.end()), known, switches);
  if (!flags.ok()) return flags.status();
  swapchaos::controller::BootEnv env = BootEnvFrom(*flags);
  std::string arg = args[0];
  if (arg.size() > 1 && arg.ends_with("/")) arg.pop_back();
  return VmCommand{arg, *std::move(flags), std::move(env)};
}

int RunCommand(const std::vector<std::string>& args) {
  auto cmd = ParseVmCommand(args, "run needs a scenario file first",
                            {{"seed", "1"}, {"telemetry-hz", "2"}, {"out", ""}, {"junit", ""}},
                            {"ktap"});
  if (!cmd.ok()) return FailUsage(cmd.status());
  const Flags* flags = &cmd->flags;
  auto seed = flags->GetUint("seed");
  if (!seed.ok()) return Fail(kExitBadInput, std::string(seed.status().message()));
  auto hz = flags->GetUint("telemetry-hz");
  if (!hz.ok()) return Fail(kExitBadInput, std::string(hz.status().message()));
  if (*hz < 1 || *hz > 100) return Fail(kExitBadInput, "--telemetry-hz must be 1..100");
  auto loaded = swapchaos::controller::LoadScenario(cmd->arg);
  if (!loaded.ok()) return Fail(kExitBadInput, std::string(loaded.status().message()));
  std::string out = flags->Get("out").empty()
                        ? swapchaos::controller::DefaultOutDir(loaded->scenario.name())
                        : flags->Get("out");
  RunOutput output{.name = loaded->scenario.name(),
                   .ktap = flags->Has("ktap"),
                   .junit = flags->Get("junit")};
  if (output.ktap) cmd->env.progress = &std::cerr;  // stdout is the harness's
  swapchaos::controller::RunOptions options{.seed = *seed,
                                            .telemetry_hz = static_cast<uint32_t>(*hz)};
  return Report(swapchaos::controller::RunScenario(*loaded, options, out, cmd->env), out, output);
}

int ReplayCommand(const std::vector<std::string>& args) {
  auto cmd = ParseVmCommand(
      args, "replay needs a run directory first",
      {{"times", "1"}, {"out", ""}, {"controller", swapchaos::controller::kDefaultControllerAddress}});
  if (!cmd.ok()) return FailUsage(cmd.status());
  const Flags* flags = &cmd->flags;
  const std::string& run = cmd->arg;
  auto times = flags->GetUint("times");
  if (!times.ok()) return Fail(kExitBadInput, std::string(times.status().message()));
  std::string out = flags->Get("out").empty()
                        ? swapchaos::controller::StampedDir(run + "/replay")
                        : flags->Get("out");
  swapchaos::controller::ReplayResult result;
  if (auto stub = swapchaos::controller::ConnectController(flags->Get("controller"))) {
    swapchaos::controller::ReplayRequest req;
    req.set_run_dir(fs::absolute(run).string());
    req.set_times(static_cast<uint32_t>(*times));
    req.set_out_dir(fs::absolute(out).string());
    std::cout << "replaying in the controller at " << flags->Get("controller")
              << " (its progress: " << req.out_dir() << ".log)\n";
    auto replayed = swapchaos::controller::RemoteReplay(*stub, req);
    if (!replayed.ok()) return FailWith(replayed.status());
    result = *std::move(replayed);
  } else {
    auto report = swapchaos::controller::Replay(run, static_cast<int>(*times), out, cmd->env);
    if (!report.ok()) return FailWith(report.status());
    result = swapchaos::controller::ToProto(*report);
  }
  std::cout << "original: " << result.original_verdict()
            << (result.original_signature().empty() ? "" : " (" + result.original_signature() + ")")
            << "; reproduced " << result.reproduced() << " of " << result.replays()
            << " replays; results in " << out << "\n";
  return result.reproduced() == result.replays() ? kExitOk : kExitFail;
}

int MinimizeCommand(const std::vector<std::string>& args) {
  auto cmd = ParseVmCommand(args, "minimize needs a run directory first",
                            {{"max-runs", "20"}, {"confirm", "3"}, {"out", ""}});
  if (!cmd.ok()) return FailUsage(cmd.status());
  const Flags* flags = &cmd->flags;
  const std::string& run = cmd->arg;
  const swapchaos::controller::BootEnv& env = cmd->env;
  auto max_runs = flags->GetUint("max-runs");
  auto confirm = flags->GetUint("confirm");
  if (!max_runs.ok() || !confirm.ok()) {
    return Fail(kExitBadInput, "--max-runs and --confirm take numbers");
  }
  std::string out = flags->Get("out").empty()
                        ? swapchaos::controller::StampedDir(run + "/minimize")
                        : flags->Get("out");
  auto report = swapchaos::controller::Minimize(
      run, {.max_runs = static_cast<int>(*max_runs), .confirm = static_cast<int>(*confirm)}, out,
      env);
  if (!report.ok()) return FailWith(report.status());
  std::cout << "minimized \"" << report->signature << "\": " << report->faults_before
            << " faults -> " << report->minimal.faults_size() << " in " << report->trial_runs
            << " trial runs; the minimal schedule failed the same way in " << report->confirmed
            << " of " << report->confirm_runs << " runs; scenario: " << report->scenario_file
            << "\n";
  return kExitOk;
}

constexpr char kDefaultStore[] = "runs/store.db";

// A store that cannot be opened: a bad URL or path (no database there at
// all) is the user's (2); a store that is unreachable, refuses us, belongs
// to another tool or to a newer swapchaos is the environment's (3).
int FailStore(const absl::Status& s) {
  return Fail(absl::IsInvalidArgument(s) ? kExitBadInput : kExitInfra, std::string(s.message()));
}

int CampaignStatus(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {{"store", kDefaultStore}}, {"json"});
  if (!flags.ok()) return FailUsage(flags.status());
  auto store = swapchaos::controller::Store::OpenNamed(flags->Get("store"), false);
  if (!store.ok()) return FailStore(store.status());
  auto campaigns = (*store)->Campaigns();
  if (!campaigns.ok()) return Fail(kExitInfra, std::string(campaigns.status().message()));
  swapchaos::controller::CampaignStatusOutput json;
  json.set_tool(swapchaos::controller::ToolVersion());
  for (const auto& c : *campaigns) {
    auto runs = (*store)->Runs(c.id);
    if (!runs.ok()) return Fail(kExitInfra, std::string(runs.status().message()));
    if (flags->Has("json")) {
      *json.add_campaigns() = swapchaos::controller::ToCampaignStatus(c, *runs);
      continue;
    }
    std::cout << "campaign " << c.id << " " << c.name << " (" << c.file << ", " << c.created_at
              << "): " << c.done << "/" << c.total << " done, " << c.running << " running, "
              << c.failed << " failed, " << c.errors << " errors\n"
              << swapchaos::controller::Summary(*runs);
  }
  if (flags->Has("json")) std::cout << swapchaos::controller::ToJson(json) << "\n";
  return kExitOk;
}

// A finished campaign's summary, and its exit status: 3 if a run could not
// be judged, else 1 if one failed, else 0.
int CampaignOutcome(const std::vector<swapchaos::controller::StoredRun>& runs) {
  std::cout << swapchaos::controller::Summary(runs);
  bool any_error = false, any_fail = false;
  for (const auto& r : runs) {
    any_error |= r.status == "error";
    any_fail |= r.verdict == "fail";
  }
  return any_error ? kExitInfra : any_fail ? kExitFail : kExitOk;
}

// The campaign submitted to a running controller, watched to its end.
int RemoteCampaign(swapchaos::controller::Controller::Stub& stub, const std::string& address,
                   const std::string& file, uint32_t jobs, const std::string& runs) {
  swapchaos::controller::SubmitCampaignRequest req;
  req.set_file(fs::absolute(file).string());
  req.set_jobs(jobs);
  if (!runs.empty()) req.set_runs_dir(fs::absolute(runs).string());
  auto watched = swapchaos::controller::SubmitAndWatch(stub, address, req, std::cout,
                                                       [] { return g_stop.load(); });
  if (absl::IsCancelled(watched.status())) {
    std::cout << watched.status().message() << "\n";
    return kExitInfra;
  }
  if (!watched.ok()) return FailWith(watched.status());
  return CampaignOutcome(watched->runs);
}

int Serve(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {{"listen", swapchaos::controller::kDefaultControllerAddress},
                                   {"store", "runs/store.db"},
                                   {"cache", DefaultCacheDir()},
                                   {"agent", DefaultAgentPath()}});
  if (!flags.ok()) return FailUsage(flags.status());
  // The address is checked before the store is created.
  if (auto socket = swapchaos::controller::ControllerSocket(flags->Get("listen")); !socket.ok()) {
    return FailWith(socket.status());
  }
  auto store = swapchaos::controller::Store::OpenNamed(flags->Get("store"), true);
  if (!store.ok()) return FailStore(store.status());
  std::cout << "controller store " << flags->Get("store") << "\n";
  absl::Status served = swapchaos::controller::ServeController(
      flags->Get("listen"), **store, BootEnvFrom(*flags), std::cout, [] { return g_stop.load(); });
  return served.ok() ? kExitOk : FailWith(served);
}

// Where a campaign's runs go: this host's pool, or a Slurm job array of
// workers (campaign, certify and bisect take the same flags).
const std::map<std::string, std::string> kPlacementFlags = {
    {"workers", "4"}, {"partition", ""}, {"sbatch", ""}, {"lease", "60"}};
std::map<std::string, std::string> WithPlacementFlags(std::map<std::string, std::string> known) {
  known.insert(kPlacementFlags.begin(), kPlacementFlags.end());
  return known;
}
absl::StatusOr<Placement> PlacementFrom(const Flags& flags) {
  auto workers = flags.GetUint("workers");
  if (!workers.ok()) return workers.status();
  auto lease = flags.GetUint("lease");
  if (!lease.ok()) return lease.status();
  return swapchaos::controller::MakePlacement(flags.Has("slurm"), *workers, *lease,
                                              flags.Get("partition"), flags.GetAll("sbatch"));
}

// How campaign, certify and bisect run theirs: progress on stdout (or
// `out`), redrawn on a terminal.
swapchaos::controller::DispatchOptions DispatchFrom(const Flags& flags, int jobs,
                                                    const Placement& placement,
                                                    std::ostream& out = std::cout) {
  return {.store_url = flags.Get("store"),
          .jobs = jobs,
          .placement = placement,
          .out = &out,
          .live = isatty(STDOUT_FILENO) != 0};
}

int CampaignCommand(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "status") {
    return CampaignStatus(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  auto cmd = ParseVmCommand(
      args, "campaign needs a campaign file first (or: campaign status)",
      WithPlacementFlags({{"jobs", "1"},
                          {"store", kDefaultStore},
                          {"runs", ""},
                          {"controller", swapchaos::controller::kDefaultControllerAddress}}),
      {"slurm"});
  if (!cmd.ok()) return FailUsage(cmd.status());
  const Flags* flags = &cmd->flags;
  auto jobs = flags->GetUint("jobs");
  if (!jobs.ok() || *jobs < 1) return Fail(kExitBadInput, "--jobs must be a number >= 1");
  auto placement = PlacementFrom(*flags);
  if (!placement.ok()) return Fail(kExitBadInput, std::string(placement.status().message()));
  // Everything is checked before the store is touched.
  auto plan = swapchaos::controller::LoadCampaign(cmd->arg);
  if (!plan.ok()) return Fail(kExitBadInput, std::string(plan.status().message()));
  if (auto stub = placement->slurm
                      ? nullptr
                      : swapchaos::controller::ConnectController(flags->Get("controller"))) {
    return RemoteCampaign(*stub, flags->Get("controller"), cmd->arg, *jobs, flags->Get("runs"));
  }
  auto dispatch = DispatchFrom(*flags, static_cast<int>(*jobs), *placement);
  dispatch.runs_dir = flags->Get("runs").empty() ? "runs/" + plan->name : flags->Get("runs");
  auto ran = swapchaos::controller::DispatchCampaign(*plan, dispatch, cmd->env);
  if (!ran.ok()) return FailStore(ran.status());
  auto runs = ran->store->Runs(ran->id);
  if (!runs.ok()) return Fail(kExitInfra, std::string(runs.status().message()));
  return CampaignOutcome(*runs);
}

// store import SOURCE... | store fetch RUN: runs made elsewhere into this
// store; a stored run's files out of it, onto this machine.
int StoreCommand(const std::vector<std::string>& args) {
  std::string sub = args.empty() ? "" : args[0];
  std::vector<std::string> rest(args.begin() + !args.empty(), args.end());
  std::vector<std::string> positional;
  while (!rest.empty() && !rest[0].starts_with("--")) {
    positional.push_back(rest[0]);
    rest.erase(rest.begin());
  }
  if (sub == "import") {
    if (positional.empty()) return Fail(kExitBadInput, "store import needs a store to import from");
    auto flags = Flags::Parse(rest, {{"store", kDefaultStore}});
    if (!flags.ok()) return FailUsage(flags.status());
    // Every store among the sources is opened (and checked to be a store)
    // before anything is written; a directory holds runs made without one.
    std::vector<std::unique_ptr<swapchaos::controller::Store>> sources;
    for (const std::string& from : positional) {
      if (fs::is_directory(from)) {
        sources.push_back(nullptr);
        continue;
      }
      auto source = swapchaos::controller::Store::OpenNamed(from, false);
      if (!source.ok()) return FailStore(source.status());
      sources.push_back(*std::move(source));
    }
    auto store = swapchaos::controller::Store::OpenNamed(flags->Get("store"), true);
    if (!store.ok()) return FailStore(store.status());
    for (size_t i = 0; i < sources.size(); ++i) {
      auto done = sources[i] ? (*store)->Import(*sources[i])
                             : swapchaos::controller::ImportRunDirectories(**store, positional[i]);
      if (!done.ok()) {
        return Fail(absl::IsInvalidArgument(done.status()) ? kExitBadInput : kExitInfra,
                    std::string(done.status().message()));
      }
      std::cout << positional[i] << ": " << done->campaigns << " campaigns (" << done->runs
                << " runs) imported, " << done->skipped << " already here\n";
    }
    return kExitOk;
  }
  if (sub == "fetch") {
    auto flags = Flags::Parse(rest, {{"store", kDefaultStore}, {"out", ""}});
    if (!flags.ok()) return FailUsage(flags.status());
    uint64_t id = 0;
    if (positional.size() != 1 || !absl::SimpleAtoi(positional[0], &id)) {
      return Fail(kExitBadInput, "store fetch needs one run id");
    }
    auto store = swapchaos::controller::Store::OpenNamed(flags->Get("store"), false);
    if (!store.ok()) return FailStore(store.status());
    auto run = (*store)->Run(static_cast<int64_t>(id));
    if (!run.ok()) return Fail(kExitBadInput, std::string(run.status().message()));
    auto files = (*store)->RunFiles(run->id);
    if (!files.ok()) return Fail(kExitInfra, std::string(files.status().message()));
    if (files->empty()) {
      return Fail(kExitBadInput, absl::StrCat("run ", id, " has no stored files (", run->status,
                                              run->dir.empty() ? "" : "; its directory: " + run->dir,
                                              ")"));
    }
    std::string out = flags->Get("out").empty()
                          ? absl::StrCat("runs/fetched/", run->id, ".", run->attempts)
                          : flags->Get("out");
    fs::create_directories(out);
    for (const auto& [name, content] : *files) {
      if (absl::Status st = swapchaos::controller::WriteFileAtomically(out + "/" + name, content);
          !st.ok()) {
        return Fail(kExitInfra, std::string(st.message()));
      }
    }
    std::cout << "run " << run->id << " (" << run->status << " " << run->verdict
              << (run->signature.empty() ? "" : ", " + run->signature) << "; ran on " << run->host
              << " under " << run->tool << ") in " << out << ": " << files->size()
              << " files; `swapchaos replay " << out << "` runs it again here\n";
    return kExitOk;
  }
  return Fail(kExitBadInput, "store needs import or fetch, not '" + sub + "'");
}

int WorkerCommand(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {{"store", kDefaultStore},
                                   {"campaign", "0"},
                                   {"jobs", "1"},
                                   {"runs", "runs/worker"},
                                   {"max-runs", "0"},
                                   {"lease", "60"},
                                   {"cache", DefaultCacheDir()},
                                   {"agent", DefaultAgentPath()}});
  if (!flags.ok()) return FailUsage(flags.status());
  auto campaign = flags->GetUint("campaign");
  auto jobs = flags->GetUint("jobs");
  auto max_runs = flags->GetUint("max-runs");
  auto lease = flags->GetUint("lease");
  for (const auto* v : {&campaign, &jobs, &max_runs, &lease}) {
    if (!v->ok()) return Fail(kExitBadInput, std::string(v->status().message()));
  }
  if (*jobs < 1) return Fail(kExitBadInput, "--jobs must be a number >= 1");
  // A renewal every third of the lease, and a run's VMs take seconds to
  // stop: shorter leases would move live runs.
  if (*lease < 10 || *lease > 86400) return Fail(kExitBadInput, "--lease must be 10..86400 s");
  auto store = swapchaos::controller::Store::OpenNamed(flags->Get("store"), false);
  if (!store.ok()) return FailStore(store.status());
  (*store)->set_lease_seconds(static_cast<int>(*lease));
  swapchaos::controller::CampaignOptions options{.jobs = static_cast<int>(*jobs),
                                                 .runs_dir = fs::absolute(flags->Get("runs")),
                                                 .out = &std::cout,
                                                 .live = false,
                                                 .max_runs = static_cast<int>(*max_runs)};
  absl::Status s =
      swapchaos::controller::RunWorker(*campaign, **store, options, BootEnvFrom(*flags));
  if (absl::IsNotFound(s)) return Fail(kExitBadInput, std::string(s.message()));
  if (!s.ok()) return Fail(kExitInfra, std::string(s.message()));
  return kExitOk;
}

int Failures(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {{"store", kDefaultStore}}, {"json"});
  if (!flags.ok()) return FailUsage(flags.status());
  auto store = swapchaos::controller::Store::OpenNamed(flags->Get("store"), false);
  if (!store.ok()) return FailStore(store.status());
  auto failures = (*store)->Failures();
  if (!failures.ok()) return Fail(kExitInfra, std::string(failures.status().message()));
  if (flags->Has("json")) {
    swapchaos::controller::FailuresOutput out;
    out.set_tool(swapchaos::controller::ToolVersion());
    for (const auto& f : *failures) *out.add_failures() = swapchaos::controller::ToFailureSignature(f);
    std::cout << swapchaos::controller::ToJson(out) << "\n";
    return kExitOk;
  }
  if (failures->empty()) std::cout << "no failing run in the store\n";
  for (const auto& f : *failures) {
    std::cout << f.count << " x \"" << f.signature << "\": first " << f.first_seen << ", last "
              << f.last_seen << "; kernels " << absl::StrJoin(f.kernels, ", ") << "; e.g. "
              << absl::StrJoin(f.example_dirs, " ") << "\n";
  }
  return kExitOk;
}

int Export(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "kcidb") {
    return Fail(kExitBadInput, "export takes one format: kcidb");
  }
  auto flags = Flags::Parse(std::vector<std::string>(args.begin() + 1, args.end()),
                            {{"store", kDefaultStore}, {"campaign", "0"}, {"origin", "swapchaos"}});
  if (!flags.ok()) return FailUsage(flags.status());
  auto campaign = flags->GetUint("campaign");
  if (!campaign.ok()) return Fail(kExitBadInput, std::string(campaign.status().message()));
  auto store = swapchaos::controller::Store::OpenNamed(flags->Get("store"), false);
  if (!store.ok()) return FailStore(store.status());
  auto campaigns = (*store)->Campaigns();
  if (!campaigns.ok()) return Fail(kExitInfra, std::string(campaigns.status().message()));
  std::vector<swapchaos::controller::StoredCampaign> chosen;
  std::map<int64_t, std::vector<swapchaos::controller::StoredRun>> runs;
  for (const auto& c : *campaigns) {
    if (*campaign != 0 && c.id != *campaign) continue;
    auto r = (*store)->Runs(c.id);
    if (!r.ok()) return Fail(kExitInfra, std::string(r.status().message()));
    chosen.push_back(c);
    runs[c.id] = *std::move(r);
  }
  if (*campaign != 0 && chosen.empty()) {
    return Fail(kExitBadInput, absl::StrCat("no campaign ", *campaign, " in the store"));
  }
  auto report = swapchaos::controller::KcidbReport(chosen, runs, flags->Get("origin"));
  if (!report.ok()) return Fail(kExitBadInput, std::string(report.status().message()));
  std::cout << *report << "\n";
  return kExitOk;
}

int Analyze(const std::vector<std::string>& args) {
  if (args.empty() || args[0].starts_with("--")) {
    return Fail(kExitBadInput, "analyze needs a run directory first");
  }
  auto flags = Flags::Parse(std::vector<std::string>(args.begin() + 1, args.end()), {{"junit", ""}},
                            {"ktap"});
  if (!flags.ok()) return FailUsage(flags.status());
  auto judged = swapchaos::controller::AnalyzeRun(args[0]);
  RunOutput output{.name = judged.ok() ? judged->scenario() : fs::path(args[0]).filename().string(),
                   .ktap = flags->Has("ktap"),
                   .junit = flags->Get("junit")};
  return Report(judged, args[0], output);
}

// completion bash | manpage: the usage above in other forms.
int Completion(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "bash") {
    return Fail(kExitBadInput, "completion takes one shell: bash");
  }
  std::cout << swapchaos::controller::BashCompletion(kUsage);
  return kExitOk;
}
int ManPageCommand(const std::vector<std::string>& args) {
  if (!args.empty()) return Fail(kExitBadInput, "manpage takes no arguments");
  std::cout << swapchaos::controller::ManPage(kUsage, swapchaos::controller::ToolVersion());
  return kExitOk;
}

int Check(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  bool json = false;
  for (const std::string& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a.starts_with("--")) {
      return Fail(kExitBadInput, "unknown flag " + a + " (check SCENARIO... [--json])");
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return Fail(kExitBadInput, "check needs at least one scenario file");
  int rc = kExitOk;
  swapchaos::controller::CheckOutput report;
  report.set_tool(swapchaos::controller::ToolVersion());
  for (const std::string& file : files) {
    swapchaos::controller::ScenarioCheck* c = report.add_files();
    c->set_file(file);
    auto loaded = swapchaos::controller::LoadScenario(file);
    if (!loaded.ok()) {
      c->set_error(std::string(loaded.status().message()));
      if (!json) std::cerr << c->error() << "\n";
      rc = kExitBadInput;
      continue;
    }
    const auto& s = loaded->scenario;
    c->set_ok(true);
    c->set_name(s.name());
    c->set_faults(static_cast<uint32_t>(s.faults_size()));
    c->set_generated(s.generator().count());
    c->set_deadline_s(s.deadline_s());
    if (json) continue;
    std::cout << file << ": ok: " << s.name() << ", " << s.faults_size()
              << (s.faults_size() == 1 ? " fault" : " faults");
    if (s.generator().count() > 0) std::cout << " + " << s.generator().count() << " drawn from the seed";
    std::cout << ", deadline " << s.deadline_s() << " s\n";
  }
  if (json) std::cout << swapchaos::controller::ToJson(report) << "\n";
  return rc;
}

std::string DefaultKernelsDir() { return DefaultCacheDir() + "/kernels"; }

void PrintKernel(const swapchaos::kernels::CachedKernel& k) {
  const auto& m = k.manifest;
  std::cout << m.id().substr(0, 12) << "  " << (m.name().empty() ? "-" : m.name()) << "  "
            << m.kind() << "  " << m.release() << "  " << m.patches_size() << " patches  "
            << m.built_at() << "\n    " << k.image << "\n";
}

// --config FRAGMENT,... of kernel build and bisect.
std::vector<std::string> ConfigFragments(const Flags& flags) {
  return absl::StrSplit(flags.Get("config"), ',', absl::SkipEmpty());
}

// The flags of the commands that run scenarios over seeds on a kernel of
// the cache (certify, bisect): their own, plus where runs, kernels, guest
// images and the agent are; --seeds and --jobs checked.
struct SeededFlags {
  Flags flags;
  swapchaos::controller::SeedRange seeds;
  uint32_t jobs = 0;
  Placement placement;
};

// --seeds N (1..N) or A..B, so one kernel's certification can be split.
absl::StatusOr<swapchaos::controller::SeedRange> ParseSeeds(const std::string& text) {
  auto bad = absl::InvalidArgumentError(
      absl::StrCat("--seeds must be N (seeds 1..N) or A..B with 1 <= A <= B, got \"", text, "\""));
  std::vector<std::string> parts = absl::StrSplit(text, "..");
  uint64_t first = 1, last = 0;
  if (parts.size() == 1) {
    if (!absl::SimpleAtoi(parts[0], &last)) return bad;
  } else if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &first) ||
             !absl::SimpleAtoi(parts[1], &last)) {
    return bad;
  }
  if (first < 1 || last < first || last - first >= 100000) return bad;
  return swapchaos::controller::SeedRange{first, static_cast<uint32_t>(last - first + 1)};
}
absl::StatusOr<SeededFlags> ParseSeededFlags(const std::vector<std::string>& args,
                                             std::map<std::string, std::string> known,
                                             std::set<std::string> switches = {}) {
  known.insert({{"seeds", "3"},
                {"jobs", "1"},
                {"out", ""},
                {"store", kDefaultStore},
                {"kernels", DefaultKernelsDir()},
                {"cache", DefaultCacheDir()},
                {"agent", DefaultAgentPath()}});
  switches.insert("slurm");
  auto flags = Flags::Parse(args, WithPlacementFlags(known), switches);
  if (!flags.ok()) return flags.status();
  auto seeds = ParseSeeds(flags->Get("seeds"));
  if (!seeds.ok()) return seeds.status();
  auto jobs = flags->GetUint("jobs");
  if (!jobs.ok() || *jobs < 1) return absl::InvalidArgumentError("--jobs must be a number >= 1");
  auto placement = PlacementFrom(*flags);
  if (!placement.ok()) return placement.status();
  return SeededFlags{*std::move(flags), *seeds, *jobs, *placement};
}

int Certify(const std::vector<std::string>& args) {
  auto parsed = ParseSeededFlags(
      args, {{"kernel", ""}, {"suite", DefaultSuite()}, {"max-failures", "1"}}, {"json"});
  if (!parsed.ok()) return FailUsage(parsed.status());
  const Flags* flags = &parsed->flags;
  auto max_failures = flags->GetUint("max-failures");
  if (!max_failures.ok()) return Fail(kExitBadInput, std::string(max_failures.status().message()));
  if (flags->Get("kernel").empty()) {
    return Fail(kExitBadInput, "certify needs --kernel (default, a bzImage, or a kernel's name or id)");
  }
  // --json: stdout carries the certificate alone; what people read (the
  // progress, the summary) goes to stderr.
  std::ostream& out = flags->Has("json") ? std::cerr : std::cout;
  swapchaos::controller::CertifyRequest request{
      .kernels_dir = flags->Get("kernels"),
      .kernel = flags->Get("kernel"),
      .suite = flags->Get("suite"),
      .out = flags->Get("out"),
      .seeds = parsed->seeds,
      .dispatch = DispatchFrom(*flags, static_cast<int>(parsed->jobs), parsed->placement, out)};
  request.dispatch.max_failures = static_cast<int>(*max_failures);
  auto certified = swapchaos::controller::CertifyKernel(request, BootEnvFrom(*flags));
  if (!certified.ok()) return FailWith(certified.status());
  const swapchaos::kernels::Certificate& cert = certified->certificate;
  for (const auto& sr : cert.scenarios()) {
    out << "  " << sr.scenario() << ": " << sr.passes() << "/" << sr.runs() << " pass"
        << (sr.failures() ? absl::StrCat(", ", sr.failures(), " fail") : "")
        << (sr.errors() ? absl::StrCat(", ", sr.errors(), " not judged") : "")
        << "; pass rate >= " << absl::StrFormat("%.2f", sr.pass_rate_lower_95()) << " (95%)\n";
  }
  for (const auto& sig : cert.signatures()) {
    out << "  signature: " << sig.signature() << " (" << sig.count()
        << (sig.count() == 1 ? " run: " : " runs, e.g. ") << sig.example_runs(0) << ")\n";
  }
  out << cert.verdict() << ": " << certified->out << "/certificate.json\n";
  if (flags->Has("json")) std::cout << swapchaos::controller::ToJson(cert) << "\n";
  if (cert.verdict() == "certified") return kExitOk;
  return cert.verdict() == "not certified" ? kExitFail : kExitInfra;
}

int BisectCommand(const std::vector<std::string>& args) {
  auto parsed = ParseSeededFlags(
      args, {{"kernel-source", ""}, {"series", ""}, {"scenario", ""}, {"config", ""}});
  if (!parsed.ok()) return FailUsage(parsed.status());
  const Flags* flags = &parsed->flags;
  for (const char* f : {"kernel-source", "series", "scenario"}) {
    if (flags->Get(f).empty()) {
      return Fail(kExitBadInput,
                  "bisect needs --kernel-source, --series and --scenario (missing --" +
                      std::string(f) + ")");
    }
  }
  auto bisected = swapchaos::controller::BisectSeries(
      {.recipe = {.source = flags->Get("kernel-source"),
                  .series = flags->Get("series"),
                  .fragments = ConfigFragments(*flags)},
       .kernels_dir = flags->Get("kernels"),
       .scenario = flags->Get("scenario"),
       .out = flags->Get("out"),
       .seeds = parsed->seeds,
       .build_jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())),
       .dispatch = DispatchFrom(*flags, static_cast<int>(parsed->jobs), parsed->placement)},
      BootEnvFrom(*flags));
  if (!bisected.ok()) return FailWith(bisected.status());
  const swapchaos::kernels::BisectReport& report = bisected->report;
  for (const auto& st : report.steps()) {
    std::cout << "  " << st.patches() << " patches" << (st.patch().empty() ? "" : " (to ")
              << st.patch() << (st.patch().empty() ? "" : ")") << ": " << st.passes() << "/"
              << st.runs() << " pass, " << st.target_failures() << " failing as the series does\n";
  }
  std::cout << report.conclusion() << ": " << bisected->out << "/bisect.json\n";
  return report.first_failing() > 0 ? kExitOk : kExitFail;
}

int KernelCommand(const std::vector<std::string>& args) {
  if (args.empty()) return Fail(kExitBadInput, "kernel needs build, import, list or show");
  std::string sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "build") {
    auto flags = Flags::Parse(rest, {{"source", ""}, {"series", ""}, {"config", ""}, {"name", ""},
                                     {"jobs", std::to_string(std::max(1u, std::thread::hardware_concurrency()))},
                                     {"kernels", DefaultKernelsDir()}});
    if (!flags.ok()) return FailUsage(flags.status());
    auto jobs = flags->GetUint("jobs");
    if (!jobs.ok() || *jobs < 1) return Fail(kExitBadInput, "--jobs must be a number >= 1");
    if (flags->Get("source").empty()) return Fail(kExitBadInput, "kernel build needs --source");
    swapchaos::kernels::KernelRecipe recipe{.name = flags->Get("name"),
                                            .source = flags->Get("source"),
                                            .series = flags->Get("series"),
                                            .fragments = ConfigFragments(*flags)};
    auto built = swapchaos::kernels::BuildKernel(
        recipe, {.kernels_dir = flags->Get("kernels"), .jobs = static_cast<int>(*jobs),
                 .progress = &std::cout, .stopped = [] { return g_stop.load(); }});
    if (!built.ok()) {
      return Fail(swapchaos::controller::IsBadInput(built.status()) ? kExitBadInput : kExitInfra,
                  std::string(built.status().message()));
    }
    PrintKernel(*built);
    return kExitOk;
  }
  if (sub == "import") {
    auto flags = Flags::Parse(rest, {{"image", ""}, {"modules", ""}, {"name", ""},
                                     {"kernels", DefaultKernelsDir()}});
    if (!flags.ok()) return FailUsage(flags.status());
    if (flags->Get("image").empty()) return Fail(kExitBadInput, "kernel import needs --image");
    auto imported = swapchaos::kernels::ImportKernel(flags->Get("name"), flags->Get("image"),
                                                     flags->Get("modules"), flags->Get("kernels"));
    if (!imported.ok()) {
      return Fail(swapchaos::controller::IsBadInput(imported.status()) ? kExitBadInput : kExitInfra,
                  std::string(imported.status().message()));
    }
    PrintKernel(*imported);
    return kExitOk;
  }
  if (sub == "list" || sub == "show") {
    bool show = sub == "show";
    if (show && (rest.empty() || rest[0].starts_with("--"))) {
      return Fail(kExitBadInput, "kernel show needs a kernel's name or id first");
    }
    auto flags = Flags::Parse(std::vector<std::string>(rest.begin() + show, rest.end()),
                              {{"kernels", DefaultKernelsDir()}}, {"json"});
    if (!flags.ok()) return FailUsage(flags.status());
    std::vector<swapchaos::kernels::CachedKernel> kernels;
    if (show) {
      auto k = swapchaos::kernels::FindKernel(flags->Get("kernels"), rest[0]);
      if (!k.ok()) return Fail(kExitBadInput, std::string(k.status().message()));
      kernels.push_back(*std::move(k));
    } else {
      auto all = swapchaos::kernels::ListKernels(flags->Get("kernels"));
      if (!all.ok()) return Fail(kExitInfra, std::string(all.status().message()));
      kernels = *std::move(all);
    }
    if (flags->Has("json")) {
      swapchaos::controller::KernelListOutput out;
      out.set_tool(swapchaos::controller::ToolVersion());
      for (const auto& k : kernels) {
        auto* entry = out.add_kernels();
        entry->set_image(k.image);
        *entry->mutable_manifest() = k.manifest;
      }
      std::cout << swapchaos::controller::ToJson(out) << "\n";
      return kExitOk;
    }
    if (show) {
      std::cout << swapchaos::controller::ToJson(kernels[0].manifest)
                << "\nimage: " << kernels[0].image << "\n";
      return kExitOk;
    }
    if (kernels.empty()) std::cout << "no kernels in " << flags->Get("kernels") << "\n";
    for (const auto& k : kernels) PrintKernel(k);
    return kExitOk;
  }
  return Fail(kExitBadInput, "kernel needs build, import, list or show, not '" + sub + "'");
}

}  // namespace

int main(int argc, char** argv) {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::cout.setf(std::ios::unitbuf);

  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitBadInput : kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << swapchaos::controller::ToolVersion() << "\n";
    return kExitOk;
  }
  std::string command = args[0];
  g_command = command;
  args.erase(args.begin());
  if (std::find(args.begin(), args.end(), "--help") != args.end() ||
      std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::string help = CommandHelp(command);
    if (help.empty()) return Fail(kExitBadInput, absl::StrCat("unknown command '", command, "'"));
    std::cout << help;
    return kExitOk;
  }
  using Command = int (*)(const std::vector<std::string>&);
  static constexpr std::pair<const char*, Command> kCommands[] = {
      // clang-format off
      {"boot", Boot},                {"check", Check},          {"run", RunCommand},
      {"analyze", Analyze},          {"replay", ReplayCommand}, {"minimize", MinimizeCommand},
      {"campaign", CampaignCommand}, {"failures", Failures},    {"serve", Serve},
      {"kernel", KernelCommand},     {"certify", Certify},      {"bisect", BisectCommand},
      {"worker", WorkerCommand},     {"store", StoreCommand},   {"export", Export},
      {"completion", Completion},    {"manpage", ManPageCommand},
      // clang-format on
  };
  auto dispatch = [&]() -> int {
    for (const auto& [name, run] : kCommands) {
      if (command == name) return run(args);
    }
    std::vector<std::string> names;
    for (const auto& [name, run] : kCommands) names.push_back(name);
    return Fail(kExitBadInput, absl::StrCat("unknown command '", command, "' (commands: ",
                                            absl::StrJoin(names, ", "), "; swapchaos --help)"));
  };
  // std::filesystem throws on what a user's path can be (a symlink loop
  // aborted the store commands); unwinding also stops any VM and server
  // this command started, which an abort would leave running.
  try {
    return dispatch();
  } catch (const fs::filesystem_error& e) {
    return Fail(kExitBadInput, e.what());
  }
}
