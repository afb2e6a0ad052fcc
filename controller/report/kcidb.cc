#include "controller/report/kcidb.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "kernels/hash.h"

namespace swapchaos::controller {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr int kSchemaMajor = 5, kSchemaMinor = 3;

Value Str(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}
Value Num(double n) {
  Value v;
  v.set_number_value(n);
  return v;
}
Value Obj(Struct s) {
  Value v;
  *v.mutable_struct_value() = std::move(s);
  return v;
}

// KCIDB's path nodes are [a-zA-Z0-9_-]+: a scenario file's stem, anything
// else as '_'.
std::string PathNode(const std::string& scenario) {
  std::string node = std::filesystem::path(scenario).stem().string();
  for (char& c : node) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  return node.empty() ? "unnamed" : node;
}

// The kernel a run tested, as KCIDB's build id: its image's sha256, or for
// a run that never read its image, a digest of how it was named.
std::string KernelKey(const StoredRun& r) {
  if (!r.kernel_sha256.empty()) return r.kernel_sha256;
  kernels::Sha256 named;
  named.Update(r.kernel.empty() ? "default" : r.kernel);
  return "named-" + named.HexDigest().substr(0, 16);
}

}  // namespace

absl::StatusOr<std::string> KcidbReport(const std::vector<StoredCampaign>& campaigns,
                                        const std::map<int64_t, std::vector<StoredRun>>& runs,
                                        const std::string& origin) {
  if (origin.empty() ||
      origin.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--origin '", origin, "': KCIDB takes [a-z0-9_]+"));
  }
  Struct report;
  Struct version;
  (*version.mutable_fields())["major"] = Num(kSchemaMajor);
  (*version.mutable_fields())["minor"] = Num(kSchemaMinor);
  (*report.mutable_fields())["version"] = Obj(version);
  auto* checkouts = (*report.mutable_fields())["checkouts"].mutable_list_value();
  auto* builds = (*report.mutable_fields())["builds"].mutable_list_value();
  auto* tests = (*report.mutable_fields())["tests"].mutable_list_value();
  std::set<std::string> kernels_seen;
  for (const StoredCampaign& c : campaigns) {
    auto it = runs.find(c.id);
    if (it == runs.end()) continue;
    for (const StoredRun& r : it->second) {
      if (r.status != "done" && r.status != "error") continue;
      std::string kernel = absl::StrCat(origin, ":", KernelKey(r));
      if (kernels_seen.insert(kernel).second) {
        // We test images, not checkouts: each image is its own checkout
        // and build, named by its release.
        std::string release = r.kernel_release.empty() ? "unknown release" : r.kernel_release;
        Struct checkout, build;
        (*checkout.mutable_fields())["id"] = Str(kernel);
        (*checkout.mutable_fields())["origin"] = Str(origin);
        (*checkout.mutable_fields())["comment"] = Str(release);
        (*build.mutable_fields())["id"] = Str(kernel);
        (*build.mutable_fields())["checkout_id"] = Str(kernel);
        (*build.mutable_fields())["origin"] = Str(origin);
        (*build.mutable_fields())["architecture"] = Str("x86_64");
        (*build.mutable_fields())["comment"] =
            Str(release + (r.kernel.empty() ? " (the default kernel)" : " " + r.kernel));
        *checkouts->add_values() = Obj(checkout);
        *builds->add_values() = Obj(build);
      }
      Struct test;
      auto& f = *test.mutable_fields();
      f["id"] = Str(absl::StrCat(origin, ":campaign-", c.id, "-run-", r.id, "-", r.attempts));
      f["build_id"] = Str(kernel);
      f["origin"] = Str(origin);
      f["path"] = Str("swapchaos." + PathNode(r.scenario));
      f["status"] = Str(r.status == "error" ? "ERROR" : r.verdict == "pass" ? "PASS" : "FAIL");
      f["duration"] = Num(r.wall_s);
      absl::Time finished;
      std::string unused;
      if (absl::ParseTime(kStoreTimeFormat, r.finished_at, &finished, &unused)) {
        f["start_time"] = Str(absl::FormatTime(
            kStoreTimeFormat, finished - absl::Seconds(static_cast<int64_t>(r.wall_s)),
            absl::UTCTimeZone()));
      }
      std::string why = r.status == "error" ? r.error : r.signature;
      if (!why.empty()) f["log_excerpt"] = Str(why);
      Struct env;
      (*env.mutable_fields())["comment"] =
          Str(absl::StrCat("host ", r.host.empty() ? "unknown" : r.host, ", QEMU TCG; ",
                           r.tool.empty() ? "swapchaos" : r.tool));
      f["environment"] = Obj(env);
      Struct misc;
      (*misc.mutable_fields())["campaign"] = Str(c.name);
      (*misc.mutable_fields())["scenario"] = Str(r.scenario);
      (*misc.mutable_fields())["seed"] = Num(static_cast<double>(r.seed));
      (*misc.mutable_fields())["attempts"] = Num(r.attempts);
      if (!r.dir.empty()) (*misc.mutable_fields())["dir"] = Str(r.dir);
      f["misc"] = Obj(misc);
      *tests->add_values() = Obj(test);
    }
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (auto st = google::protobuf::util::MessageToJsonString(report, &json, options); !st.ok()) {
    return absl::InternalError(absl::StrCat("KCIDB report: ", st.ToString()));
  }
  return json;
}

}  // namespace swapchaos::controller
