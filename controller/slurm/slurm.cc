#include "controller/slurm/slurm.h"

#include <sys/stat.h>

#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "process/subprocess.h"

namespace swapchaos::controller {
namespace {

using Clock = std::chrono::steady_clock;

// For sh: one word, whatever it holds.
std::string Quote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

// Slurm's own words, for an error message: the output without blank lines.
std::string Words(const absl::Status& s) {
  return std::string(absl::StripAsciiWhitespace(s.message()));
}

constexpr int kMaxSubmissions = 3;

// A command about a job Slurm no longer knows: it ended a while ago, so
// nothing of it is left to count or cancel.
bool JobForgotten(const absl::Status& s) {
  return absl::StrContains(s.message(), "Invalid job id");
}

}  // namespace

std::string SlurmJobScript(const SlurmOptions& slurm, const WorkerCommand& w) {
  std::string s = absl::StrCat(
      "#!/bin/sh\n"
      "# swapchaos workers for campaign ",
      w.campaign,
      ", written by `swapchaos campaign --slurm`.\n"
      "# `sbatch THIS_FILE` submits them again; `sh THIS_FILE` runs one worker here.\n"
      "#SBATCH --job-name=swapchaos-",
      w.campaign, "\n#SBATCH --array=1-", slurm.workers,
      "\n#SBATCH --cpus-per-task=2\n#SBATCH --mem=", w.memory_mib,
      "M\n#SBATCH --output=", w.runs_dir, "/slurm-%A_%a.out\n");
  if (!slurm.partition.empty()) absl::StrAppend(&s, "#SBATCH --partition=", slurm.partition, "\n");
  for (const std::string& a : slurm.sbatch_args) absl::StrAppend(&s, "#SBATCH ", a, "\n");
  absl::StrAppend(&s, "exec ", Quote(w.swapchaos), " worker --store ", Quote(w.store_url),
                  " --campaign ", w.campaign, " --runs ", Quote(w.runs_dir), " --lease ", w.lease_s,
                  " --jobs 1 --cache ", Quote(w.cache_dir), " --agent ", Quote(w.agent), "\n");
  return s;
}

absl::StatusOr<std::string> SubmitSlurmJob(const std::string& script) {
  auto out = process::OutputOf({"sbatch", "--parsable", script}, std::chrono::seconds(120));
  if (!out.ok()) {
    return absl::UnavailableError(
        absl::StrCat("Slurm did not take the job (", script, "): ", Words(out.status())));
  }
  // "JOBID" or "JOBID;CLUSTER", after any warnings sbatch printed.
  std::vector<std::string> lines = absl::StrSplit(*out, '\n', absl::SkipWhitespace());
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    std::string id = std::string(absl::StripAsciiWhitespace(*it)).substr(0, it->find(';'));
    uint64_t n;
    if (absl::SimpleAtoi(id, &n)) return id;
  }
  return absl::UnavailableError(absl::StrCat("sbatch gave no job id for ", script, ": ", *out));
}

absl::StatusOr<int> SlurmTasksLeft(const std::string& job_id) {
  auto out =
      process::OutputOf({"squeue", "--noheader", "--array", "--jobs", job_id, "--format", "%i"},
                        std::chrono::seconds(60));
  if (!out.ok()) {
    if (JobForgotten(out.status())) return 0;
    return absl::UnavailableError(absl::StrCat("squeue: ", Words(out.status())));
  }
  int n = 0;
  for (absl::string_view line : absl::StrSplit(*out, '\n', absl::SkipWhitespace())) {
    n += absl::StartsWith(absl::StripAsciiWhitespace(line), job_id);
  }
  return n;
}

absl::Status CancelSlurmJob(const std::string& job_id, bool pending_only) {
  std::vector<std::string> argv = {"scancel", job_id};
  if (pending_only) argv.insert(argv.begin() + 1, "--state=PENDING");
  auto out = process::OutputOf(argv, std::chrono::seconds(60));
  if (!out.ok() && !JobForgotten(out.status())) {
    return absl::UnavailableError(absl::StrCat("scancel: ", Words(out.status())));
  }
  return absl::OkStatus();
}

absl::Status RunCampaignOnSlurm(int64_t id, Store& store, const CampaignOptions& options,
                                const SlurmOptions& slurm, const WorkerCommand& worker,
                                const BootEnv& env) {
  std::ostream& out = *options.out;
  std::string script = absl::StrCat(worker.runs_dir, "/slurm-campaign-", id, ".sh");
  if (absl::Status s = WriteFileAtomically(script, SlurmJobScript(slurm, worker)); !s.ok()) {
    return s;
  }
  chmod(script.c_str(), 0755);
  std::string job;
  auto submit = [&]() -> absl::Status {
    auto submitted = SubmitSlurmJob(script);
    if (!submitted.ok()) {
      return absl::UnavailableError(absl::StrCat(
          submitted.status().message(), "; campaign ", id,
          " stays in the store: the same command resumes it, or `sbatch ", script, "`"));
    }
    job = *submitted;
    out << "Slurm job " << job << ": " << slurm.workers << " workers for campaign " << id
        << " (job script " << script << ")\n";
    return absl::OkStatus();
  };
  if (absl::Status s = submit(); !s.ok()) return s;
  int submissions = 1;
  auto started = Clock::now();
  auto checked_slurm = Clock::now();
  std::string last_line, note;
  while (true) {
    if (env.stop_requested()) {
      absl::Status cancelled = CancelSlurmJob(job);
      if (options.live) out << "\n";
      return absl::CancelledError(absl::StrCat(
          "interrupted; Slurm job ", job,
          cancelled.ok() ? " cancelled"
                         : absl::StrCat(" not cancelled (", cancelled.message(), ")"),
          "; runs in flight go back to the queue when their leases run out; the same command "
          "resumes campaign ",
          id));
    }
    auto campaigns = store.Campaigns();
    if (!campaigns.ok()) return campaigns.status();
    const StoredCampaign* c = nullptr;
    for (const StoredCampaign& each : *campaigns) c = each.id == id ? &each : c;
    if (c == nullptr) return absl::NotFoundError(absl::StrCat("campaign ", id, " left the store"));
    int recorded = c->done + c->errors;
    std::string line = absl::StrFormat("done %d/%d, running %d, failed %d, errors %d", recorded,
                                       c->total, c->running, c->failed, c->errors);
    if (options.live) {
      out << "\r\033[K" << line << std::flush;
    } else if (line != last_line) {
      out << line << "\n";
    }
    last_line = line;
    if (recorded == c->total) break;
    // As on this host: the verdict cannot change after this many failures.
    if (options.max_failures > 0 && c->failed >= options.max_failures) {
      absl::Status cancelled = CancelSlurmJob(job);
      if (!cancelled.ok()) return cancelled;
      note = absl::StrCat("stopped after ", c->failed,
                          c->failed == 1 ? " failing run" : " failing runs", " (Slurm job ", job,
                          " cancelled); ", c->total - recorded,
                          " not run (resuming with no failure limit runs them)\n");
      break;
    }
    if (Clock::now() - checked_slurm >= std::chrono::seconds(10)) {
      checked_slurm = Clock::now();
      auto left = SlurmTasksLeft(job);
      if (!left.ok()) return left.status();
      // No worker left while runs are: resubmit (a node died, a worker was
      // killed); its runs come back to the queue as their leases run out.
      // Read the store again first: the last worker may just have ended.
      auto again = store.Runs(id);
      if (!again.ok()) return again.status();
      int unrecorded = 0;
      for (const StoredRun& r : *again)
        unrecorded += r.status == "pending" || r.status == "running";
      if (*left == 0 && unrecorded > 0) {
        if (options.live) out << "\n";
        if (submissions == kMaxSubmissions) {
          return absl::UnavailableError(absl::StrCat(
              "Slurm jobs ended ", submissions, " times with runs left (", unrecorded,
              " now); see ", worker.runs_dir, "/slurm-", job, "_*.out; the same command resumes"));
        }
        out << "Slurm job " << job << " ended with " << unrecorded
            << " runs left; submitting again\n";
        if (absl::Status s = submit(); !s.ok()) return s;
        ++submissions;
      }
    }
    for (int i = 0; i < 10 && !env.stop_requested(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  if (options.live) out << "\n";
  out << note;
  // A task still queued would start only to find nothing left; a running
  // worker exits once it finds nothing to claim.
  if (note.empty()) {
    if (absl::Status s = CancelSlurmJob(job, /*pending_only=*/true); !s.ok()) return s;
  }
  for (int i = 0;; ++i) {
    auto left = SlurmTasksLeft(job);
    if (!left.ok()) return left.status();
    if (*left == 0) break;
    if (i == 60) {
      out << "Slurm job " << job << " still has " << *left << " tasks after 60 s (squeue -j " << job
          << ")\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  // Closed only if every run is recorded (a worker may have closed it).
  if (auto closed = store.CloseCampaign(id); !closed.ok()) return closed.status();
  if (absl::Status s = WriteCampaignReports(store, id, options.runs_dir, out); !s.ok()) return s;
  out << "campaign " << id << " finished in "
      << static_cast<int>(std::chrono::duration<double>(Clock::now() - started).count())
      << " s on Slurm\n";
  return absl::OkStatus();
}

}  // namespace swapchaos::controller
