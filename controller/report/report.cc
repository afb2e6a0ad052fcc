#include "controller/report/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "controller/report/listings.h"

namespace swapchaos::controller {
namespace {

std::string Esc(const std::string& s) {
  return absl::StrReplaceAll(
      s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}});
}

struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;  // (s from the workload's start, value)
};

struct Window {
  double from, to;
  std::string label;
};

// An axis label that fits the margin: 13620 -> "13.6k".
std::string Short(double v) {
  return v >= 10000 ? absl::StrFormat("%.1fk", v / 1000) : absl::StrFormat("%.4g", v);
}

constexpr double kW = 900, kH = 150, kLeft = 60, kRight = 10, kTop = 22, kBottom = 22;

// A sampling gap: more than three usual intervals (and over 1.5 s) between
// two points. The line breaks there instead of bridging what was not seen.
double GapAfter(const Series& s) {
  std::vector<double> dts;
  for (size_t i = 1; i < s.points.size(); ++i) dts.push_back(s.points[i].first - s.points[i - 1].first);
  if (dts.empty()) return 1e300;
  std::nth_element(dts.begin(), dts.begin() + dts.size() / 2, dts.end());
  return std::max(1.5, 3 * dts[dts.size() / 2]);
}

// `markers`: instants (a link death, a reconnect) drawn as dashed lines.
std::string Chart(const std::string& title, const std::vector<Series>& series,
                  const std::vector<Window>& windows, double t_end,
                  const std::vector<Window>& markers = {}) {
  double y_max = 1;
  for (const Series& s : series) {
    for (const auto& [t, y] : s.points) y_max = std::max(y_max, y);
  }
  y_max *= 1.05;
  t_end = std::max(t_end, 1.0);
  auto x = [&](double t) { return kLeft + (kW - kLeft - kRight) * t / t_end; };
  auto y = [&](double v) { return kH - kBottom - (kH - kTop - kBottom) * v / y_max; };
  std::string svg = absl::StrFormat(
      "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">"
      "<text x=\"%.0f\" y=\"14\" class=\"t\">%s</text>",
      kW, kH, kW, kH, kLeft, Esc(title));
  for (const Window& w : windows) {
    absl::StrAppendFormat(&svg,
                          "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
                          "class=\"fault\"><title>%s</title></rect>",
                          x(w.from), kTop, std::max(1.0, x(w.to) - x(w.from)), kH - kTop - kBottom,
                          Esc(w.label));
  }
  // Axes, with the top value and a tick every tenth of the time span.
  absl::StrAppendFormat(&svg,
                        "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"ax\"/>"
                        "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"ax\"/>"
                        "<text x=\"%.0f\" y=\"%.0f\" class=\"l\" text-anchor=\"end\">%s</text>"
                        "<text x=\"%.0f\" y=\"%.0f\" class=\"l\" text-anchor=\"end\">0</text>",
                        kLeft, kTop, kLeft, kH - kBottom, kLeft, kH - kBottom, kW - kRight,
                        kH - kBottom, kLeft - 4, kTop + 8, Short(y_max / 1.05), kLeft - 4, kH - kBottom);
  for (int i = 0; i <= 10; ++i) {
    double t = t_end * i / 10;
    absl::StrAppendFormat(&svg, "<text x=\"%.1f\" y=\"%.0f\" class=\"l\" text-anchor=\"middle\">%.0f s</text>",
                          x(t), kH - 6, t);
  }
  for (const Window& m : markers) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" class=\"mark\">"
                          "<title>%s</title></line>",
                          x(m.from), kTop, x(m.from), kH - kBottom, Esc(m.label));
  }
  double legend_x = kLeft + std::max(200.0, 8.0 * static_cast<double>(title.size()) + 16);
  for (const Series& s : series) {
    std::string d;
    const double gap = GapAfter(s);
    double last = -1e300;
    for (const auto& [t, v] : s.points) {
      absl::StrAppendFormat(&d, "%s%.1f,%.1f", t - last > gap ? " M" : " L", x(t), y(v));
      last = t;
    }
    // The legend's colour is a swatch and an inline style: the .l rule
    // would override a fill attribute.
    absl::StrAppendFormat(&svg,
                          "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>"
                          "<line x1=\"%.0f\" y1=\"10\" x2=\"%.0f\" y2=\"10\" stroke=\"%s\" "
                          "stroke-width=\"3\"/><text x=\"%.0f\" y=\"14\" class=\"l\" "
                          "style=\"fill:%s\">%s</text>",
                          d, s.color, legend_x, legend_x + 14, s.color, legend_x + 18, s.color,
                          Esc(s.name));
    legend_x += 200;
  }
  return svg + "</svg>";
}

uint64_t Get(const google::protobuf::Map<std::string, uint64_t>& m, const char* k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

std::string FaultKindName(const scenario::Fault& f) {
  const auto* oneof = scenario::Fault::descriptor()->FindOneofByName("kind");
  const auto* field = f.GetReflection()->GetOneofFieldDescriptor(f, oneof);
  return field ? field->name() : "?";
}

// Each sample's time in seconds from the workload's start (t0, host ms), by
// the guest's own clock: its uptime plus the smallest host-minus-uptime
// offset seen (the sample that reached the host fastest). A burst of samples
// delivered after a stall so lands where each was taken, not all at once.
std::vector<double> SampleTimes(const std::vector<agent::Sample>& samples, int64_t t0) {
  int64_t offset = std::numeric_limits<int64_t>::max();
  for (const agent::Sample& s : samples) {
    if (s.uptime_ms() > 0) offset = std::min(offset, s.host_unix_ms() - static_cast<int64_t>(s.uptime_ms()));
  }
  std::vector<double> out;
  for (const agent::Sample& s : samples) {
    int64_t ms = s.uptime_ms() > 0 ? static_cast<int64_t>(s.uptime_ms()) + offset : s.host_unix_ms();
    out.push_back(static_cast<double>(ms - t0) / 1000.0);
  }
  return out;
}

// `delta` over the guest time between two samples; none when no time passed
// or a counter went back (a reset).
std::optional<double> PerSecond(const agent::Sample& now, const agent::Sample& before, double delta) {
  if (now.uptime_ms() <= before.uptime_ms() || delta < 0) return std::nullopt;
  return delta * 1000.0 / static_cast<double>(now.uptime_ms() - before.uptime_ms());
}

constexpr char kStyle[] = R"css(
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px} h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.pass{color:#17702a;font-weight:600} .fail{color:#b00020;font-weight:600} .skip,.error{color:#8a6d00;font-weight:600}
.fault{fill:#f3b5b5;fill-opacity:.45} .ax{stroke:#888} .mark{stroke:#333;stroke-dasharray:3 3} .t{font-weight:600;font-size:13px} .l{font-size:11px;fill:#555}
svg{display:block;margin:6px 0}
pre.report{background:#f6f6f6;border:1px solid #ddd;padding:8px;font-size:12px;overflow-x:auto}
)css";

std::string Page(const std::string& title, const std::string& body) {
  return absl::StrCat("<!doctype html><html><head><meta charset=\"utf-8\"><title>", Esc(title),
                      "</title><style>", kStyle, "</style></head><body>", body, "</body></html>\n");
}

}  // namespace

std::string RunReportHtml(const History& h, const Verdict& v) {
  const int64_t t0 = h.meta.workload_start_unix_ms();
  auto secs = [&](int64_t ms) { return static_cast<double>(ms - t0) / 1000.0; };
  double t_end = secs(h.meta.observed_until_unix_ms());

  std::map<uint32_t, Window> by_fault;
  for (const FaultEvent& e : h.faults) {
    auto [it, fresh] = by_fault.try_emplace(e.fault(), Window{e.done_s(), t_end, ""});
    if (e.action() == "apply") it->second.from = std::min(it->second.from, e.done_s());
    if (e.action() == "revert") it->second.to = e.done_s();
    if (fresh && e.fault() < static_cast<uint32_t>(h.scenario.faults_size())) {
      it->second.label =
          absl::StrCat("faults[", e.fault(), "] ", FaultKindName(h.scenario.faults(e.fault())));
    }
  }
  std::vector<Window> windows;
  for (auto& [i, w] : by_fault) windows.push_back(w);

  const std::vector<double> at = SampleTimes(h.victim, t0);
  Series in{"swap-in pages/s", "#1f77b4", {}}, out{"swap-out pages/s", "#d62728", {}};
  Series free_mib{"MemFree MiB", "#2ca02c", {}}, avail{"MemAvailable MiB", "#9467bd", {}};
  Series some{"PSI some avg10 %", "#ff7f0e", {}}, full{"PSI full avg10 %", "#8c564b", {}};
  Series throttled{"tasks in throttle_direct_reclaim", "#e377c2", {}};
  Series inflight{"reads and writes in flight", "#17becf", {}};
  Series read_ms{"read latency ms", "#1f77b4", {}}, write_ms{"write latency ms", "#d62728", {}};
  std::vector<Window> link_events;
  for (size_t i = 0; i < h.victim.size(); ++i) {
    const agent::Sample& s = h.victim[i];
    const double t = at[i];
    if (t < 0) continue;
    if (i > 0) {
      const agent::Sample& p = h.victim[i - 1];
      auto rate = [&](uint64_t now, uint64_t before) {
        return PerSecond(s, p, static_cast<double>(now) - static_cast<double>(before));
      };
      if (auto r = rate(Get(s.vmstat(), "pswpin"), Get(p.vmstat(), "pswpin"))) in.points.push_back({t, *r});
      if (auto r = rate(Get(s.vmstat(), "pswpout"), Get(p.vmstat(), "pswpout"))) out.points.push_back({t, *r});
      // Mean time from submission to answer of the requests answered in
      // this interval; none answered (a cut): no point, a gap.
      auto latency = [](uint64_t ms, uint64_t ms_before, uint64_t n, uint64_t n_before) {
        return n > n_before && ms >= ms_before
                   ? std::optional<double>(static_cast<double>(ms - ms_before) /
                                           static_cast<double>(n - n_before))
                   : std::nullopt;
      };
      if (auto l = latency(s.nbd_read_ticks_ms(), p.nbd_read_ticks_ms(), s.nbd_reads_done(),
                           p.nbd_reads_done())) {
        read_ms.points.push_back({t, *l});
      }
      if (auto l = latency(s.nbd_write_ticks_ms(), p.nbd_write_ticks_ms(), s.nbd_writes_done(),
                           p.nbd_writes_done())) {
        write_ms.points.push_back({t, *l});
      }
      if (s.nbd_link_deaths() > p.nbd_link_deaths()) {
        link_events.push_back({t, t, absl::StrCat("NBD link dead (", s.nbd_link_deaths(), ")")});
      }
      if (s.nbd_reconnects() > p.nbd_reconnects()) {
        link_events.push_back({t, t, absl::StrCat("NBD reconnected (", s.nbd_reconnects(), ")")});
      }
    }
    free_mib.points.push_back({t, Get(s.meminfo_kib(), "MemFree") / 1024.0});
    avail.points.push_back({t, Get(s.meminfo_kib(), "MemAvailable") / 1024.0});
    some.points.push_back({t, s.memory_some().avg10()});
    full.points.push_back({t, s.memory_full().avg10()});
    throttled.points.push_back({t, static_cast<double>(s.throttled_now_size())});
    inflight.points.push_back({t, static_cast<double>(s.nbd_inflight_reads() + s.nbd_inflight_writes())});
  }
  // The wire's view: what it forwarded each way (data0 faces the victim,
  // data1 the server).
  const std::vector<double> wire_at = SampleTimes(h.wire, t0);
  Series to_server{"victim to server MB/s", "#d62728", {}}, to_victim{"server to victim MB/s", "#1f77b4", {}};
  for (size_t i = 1; i < h.wire.size(); ++i) {
    const agent::Sample& s = h.wire[i];
    const agent::Sample& p = h.wire[i - 1];
    if (wire_at[i] < 0) continue;
    auto mb = [&](const char* nic) {
      auto now = s.net_dev().find(nic), before = p.net_dev().find(nic);
      if (now == s.net_dev().end() || before == p.net_dev().end()) return std::optional<double>();
      auto r = PerSecond(s, p, static_cast<double>(now->second.rx_bytes()) -
                                   static_cast<double>(before->second.rx_bytes()));
      return r ? std::optional<double>(*r / 1e6) : std::nullopt;
    };
    if (auto r = mb("data0")) to_server.points.push_back({wire_at[i], *r});
    if (auto r = mb("data1")) to_victim.points.push_back({wire_at[i], *r});
  }

  std::string body = absl::StrCat(
      "<h1>", Esc(v.scenario()), ": <span class=\"", Esc(v.verdict()), "\">", Esc(v.verdict()),
      "</span>", v.signature().empty() ? "" : " (" + Esc(v.signature()) + ")", "</h1>");
  absl::StrAppend(&body, "<p>seed ", v.seed(), ", kernel ", Esc(v.kernel().release()), " (sha256 ",
                  Esc(v.kernel().sha256().substr(0, 16)), "&hellip;), observed ",
                  absl::StrFormat("%.0f", v.observed_s()), " s",
                  v.recovered_after_s() >= 0
                      ? absl::StrFormat(", recovered %.1f s after the last heal",
                                        v.recovered_after_s())
                      : "",
                  "</p>");
  absl::StrAppend(&body, "<h2>Oracles</h2><table><tr><th>oracle</th><th>outcome</th><th>evidence</th></tr>");
  for (const OracleResult& o : v.oracles()) {
    absl::StrAppend(&body, "<tr><td>", Esc(o.name()), "</td><td class=\"", Esc(o.outcome()), "\">",
                    Esc(o.outcome()), "</td><td>", Esc(o.evidence()), "</td></tr>");
  }
  absl::StrAppend(&body, "</table>");
  // The kernel's own report of a failure: what a kernel engineer triages from.
  for (const OracleResult& o : v.oracles()) {
    if (o.report().empty()) continue;
    absl::StrAppend(&body, "<h2>Kernel report: ", Esc(o.signature()),
                    "</h2><p><a href=\"console.log\">console.log</a> line ", o.console_line(),
                    "</p><pre class=\"report\">", Esc(o.report()), "</pre>");
  }
  absl::StrAppend(&body, "<h2>Timeline (faults shaded; seconds from the workload's start)</h2>");
  if (h.victim.empty()) {
    // A kernel that failed during set-up: nothing ran to chart.
    absl::StrAppend(&body, "<p>No telemetry: the workload never started.</p>");
  } else {
    absl::StrAppend(&body, Chart("Swap traffic", {in, out}, windows, t_end));
    absl::StrAppend(&body, Chart("Free memory", {free_mib, avail}, windows, t_end));
    absl::StrAppend(&body, Chart("Memory pressure (PSI)", {some, full}, windows, t_end));
    absl::StrAppend(&body, Chart("Throttled direct reclaimers", {throttled}, windows, t_end));
    absl::StrAppend(&body, Chart("NBD requests (dashed: link dead or reconnected)", {inflight},
                                 windows, t_end, link_events));
    absl::StrAppend(&body, Chart("NBD latency, ms (answered requests)", {read_ms, write_ms},
                                 windows, t_end, link_events));
    if (!h.wire.empty()) {
      absl::StrAppend(&body, Chart("The wire forwards", {to_server, to_victim}, windows, t_end));
    }
  }
  absl::StrAppend(&body,
                  "<h2>Faults</h2><table><tr><th>fault</th><th>action</th><th>planned s</th>"
                  "<th>done s</th><th>target</th><th>read back</th><th>as intended</th></tr>");
  for (const FaultEvent& e : h.faults) {
    absl::StrAppend(
        &body, "<tr><td>", e.fault(), "</td><td>", Esc(e.action()), "</td><td>",
        absl::StrFormat("%.1f", e.planned_s()), "</td><td>", absl::StrFormat("%.1f", e.done_s()),
        "</td><td>", e.targets_size() ? Esc(e.targets(0)) : "", "</td><td>",
        Esc(e.ok() ? e.readback() : e.error()), "</td><td class=\"",
        e.matches() ? "pass\">yes" : "fail\">no", "</td></tr>");
  }
  absl::StrAppend(&body, "</table>");
  return Page(absl::StrCat("swapchaos: ", v.scenario(), " ", v.verdict()), body);
}

namespace {

// A run's report.html, relative to the page that links it.
std::string ReportLink(const std::string& run_dir, const std::string& relative_to) {
  return std::filesystem::path(run_dir).lexically_relative(relative_to).string() + "/report.html";
}

// A row per run, linking each run's report.html.
std::string RunsTable(const std::vector<StoredRun>& runs, const std::string& relative_to) {
  std::string t =
      "<table><tr><th>run</th><th>scenario</th><th>seed</th><th>kernel</th><th>verdict</th>"
      "<th>signature or error</th><th>wall s</th></tr>";
  for (const StoredRun& r : runs) {
    std::string outcome = r.status == "done" ? r.verdict : r.status;
    absl::StrAppend(&t, "<tr><td><a href=\"", Esc(ReportLink(r.dir, relative_to)), "\">", r.id, "</a></td><td>",
                    Esc(std::filesystem::path(r.scenario).filename().string()), "</td><td>",
                    r.seed, "</td><td>", Esc(r.kernel_release.empty() ? (r.kernel.empty() ? "default" : r.kernel) : r.kernel_release),
                    "</td><td class=\"", Esc(outcome), "\">", Esc(outcome), "</td><td>",
                    Esc(r.status == "error" ? r.error : r.signature), "</td><td>",
                    absl::StrFormat("%.0f", r.wall_s), "</td></tr>");
  }
  absl::StrAppend(&t, "</table>");
  return t;
}

}  // namespace

std::string CampaignReportHtml(const StoredCampaign& c, const std::vector<StoredRun>& runs,
                               const std::string& relative_to) {
  int pass = 0, fail = 0, error = 0;
  for (const StoredRun& r : runs) {
    pass += r.status == "done" && r.verdict == "pass";
    fail += r.status == "done" && r.verdict == "fail";
    error += r.status == "error";
  }
  std::string body = absl::StrCat("<h1>Campaign ", c.id, ": ", Esc(c.name), "</h1><p>",
                                  Esc(c.file), ", started ", Esc(c.created_at), ". ", runs.size(),
                                  " runs: <span class=\"pass\">", pass,
                                  " pass</span>, <span class=\"fail\">", fail,
                                  " fail</span>, <span class=\"error\">", error,
                                  " error</span>.</p>");
  // Pass rates per scenario and kernel, then what failed and where to look.
  const RunTally tally = Tally(runs);
  absl::StrAppend(&body, "<h2>Pass rates</h2><table><tr><th>scenario</th><th>kernel</th><th>pass</th>"
                         "<th>fail</th><th>error</th><th>not run</th><th>pass rate &ge; (95%)</th></tr>");
  for (const auto& [key, n] : tally.by_scenario_kernel) {
    absl::StrAppend(&body, "<tr><td>", Esc(key.first), "</td><td>", Esc(n.kernel_label), "</td><td>",
                    n.pass, "</td><td class=\"", n.fail ? "fail" : "", "\">", n.fail, "</td><td>",
                    n.error, "</td><td>", n.pending, "</td><td>",
                    absl::StrFormat("%.2f", WilsonLower95(n.pass, n.pass + n.fail)), "</td></tr>");
  }
  absl::StrAppend(&body, "</table>");
  if (!tally.failures.empty()) {
    absl::StrAppend(&body, "<h2>Failure signatures</h2><table><tr><th>signature</th><th>runs</th>"
                           "<th>examples</th></tr>");
    for (const auto& [signature, list] : tally.failures) {
      std::string examples;
      for (size_t i = 0; i < list.size() && i < 3; ++i) {
        absl::StrAppend(&examples, i ? ", " : "", "<a href=\"", Esc(ReportLink(list[i]->dir, relative_to)),
                        "\">run ", list[i]->id, "</a>");
      }
      absl::StrAppend(&body, "<tr><td class=\"fail\">", Esc(signature), "</td><td>", list.size(),
                      "</td><td>", examples, "</td></tr>");
    }
    absl::StrAppend(&body, "</table>");
  }
  absl::StrAppend(&body, "<h2>Runs</h2>", RunsTable(runs, relative_to));
  return Page(absl::StrCat("swapchaos campaign ", c.name), body);
}

std::string CertificateHtml(const kernels::Certificate& c, const std::vector<StoredRun>& runs,
                            const std::string& relative_to) {
  const kernels::KernelManifest& k = c.kernel();
  std::string verdict_class = c.verdict() == "certified" ? "pass" : c.verdict() == "not certified" ? "fail" : "error";
  std::string body = absl::StrCat(
      "<h1>Kernel ", Esc(k.release()), ": <span class=\"", verdict_class, "\">", Esc(c.verdict()),
      "</span></h1><p>", Esc(c.rule()), "</p><p>Kernel ", Esc(k.id().substr(0, 12)), " (",
      Esc(k.kind()), ", ", Esc(k.source().path()), ", ", k.patches_size(), " patches, image sha256 ",
      Esc(k.image_sha256().substr(0, 16)), "...); suite ", Esc(c.suite().dir()), " (sha256 ",
      Esc(c.suite().sha256().substr(0, 16)), "...), ", c.seeds(), " seeds per scenario; issued ",
      Esc(c.issued_at()), ".</p><table><tr><th>scenario</th><th>runs</th><th>pass</th><th>fail</th>"
      "<th>error</th><th>pass rate &ge; (95%)</th></tr>");
  for (const kernels::ScenarioResult& s : c.scenarios()) {
    absl::StrAppend(&body, "<tr><td>", Esc(s.scenario()), "</td><td>", s.runs(), "</td><td>",
                    s.passes(), "</td><td class=\"", s.failures() ? "fail" : "", "\">", s.failures(),
                    "</td><td>", s.errors(), "</td><td>",
                    absl::StrFormat("%.2f", s.pass_rate_lower_95()), "</td></tr>");
  }
  absl::StrAppend(&body, "</table>");
  if (c.signatures_size() > 0) {
    absl::StrAppend(&body, "<h2>Failure signatures</h2><table><tr><th>signature</th><th>runs</th>"
                           "<th>scenarios</th><th>examples</th></tr>");
    for (const kernels::SignatureSeen& s : c.signatures()) {
      std::string examples;
      for (const std::string& dir : s.example_runs()) {
        absl::StrAppend(&examples, examples.empty() ? "" : ", ", "<a href=\"",
                        Esc(ReportLink(dir, relative_to)), "\">",
                        Esc(std::filesystem::path(dir).filename().string()), "</a>");
      }
      absl::StrAppend(&body, "<tr><td class=\"fail\">", Esc(s.signature()), "</td><td>", s.count(),
                      "</td><td>", Esc(absl::StrJoin(s.scenarios(), ", ")), "</td><td>", examples,
                      "</td></tr>");
    }
    absl::StrAppend(&body, "</table>");
  }
  absl::StrAppend(&body, "<h2>Runs</h2>", RunsTable(runs, relative_to));
  for (const StoredRun& r : runs) {
    if (r.status != "done" || r.verdict != "fail") continue;
    std::string link = ReportLink(r.dir, relative_to);
    absl::StrAppend(&body, "<h2>Run ", r.id, ": ", Esc(std::filesystem::path(r.scenario).filename().string()),
                    ", seed ", r.seed, ": ", Esc(r.signature), "</h2><iframe src=\"", Esc(link),
                    "\" style=\"width:100%;height:900px;border:1px solid #ccc\"></iframe>");
  }
  return Page(absl::StrCat("swapchaos certificate ", k.release()), body);
}

std::string JUnitXml(const StoredCampaign& c, const std::vector<StoredRun>& runs) {
  int failures = 0, errors = 0, skipped = 0;
  double time = 0;
  std::string cases;
  for (const StoredRun& r : runs) {
    std::string scenario = std::filesystem::path(r.scenario).stem().string();
    absl::StrAppendFormat(&cases, "  <testcase classname=\"%s\" name=\"seed %d kernel %s\" time=\"%.1f\">",
                          Esc(scenario), r.seed, Esc(r.kernel.empty() ? "default" : r.kernel),
                          r.wall_s);
    time += r.wall_s;
    if (r.status == "done" && r.verdict == "fail") {
      ++failures;
      absl::StrAppend(&cases, "<failure message=\"", Esc(r.signature), "\">", Esc(r.dir),
                      "</failure>");
    } else if (r.status == "error") {
      ++errors;
      absl::StrAppend(&cases, "<error message=\"", Esc(r.error), "\"/>");
    } else if (r.status != "done") {
      ++skipped;
      absl::StrAppend(&cases, "<skipped message=\"not run yet\"/>");
    }
    absl::StrAppend(&cases, "</testcase>\n");
  }
  return absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"%s\" tests=\"%d\" "
      "failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.1f\">\n%s</testsuite>\n",
      Esc(c.name), runs.size(), failures, errors, skipped, time, cases);
}

std::string RunJUnitXml(const std::string& name, const Verdict& v) {
  int failures = 0, errors = 0, skipped = 0, tests = 0;
  std::string cases;
  auto add = [&](const std::string& test, const std::string& body) {
    ++tests;
    absl::StrAppend(&cases, "  <testcase classname=\"", Esc(name), "\" name=\"", Esc(test), "\">",
                    body, "</testcase>\n");
  };
  for (const OracleResult& o : v.oracles()) {
    if (o.outcome() == "fail") {
      ++failures;
      add(o.name(), absl::StrCat("<failure message=\"", Esc(o.signature()), "\">",
                                 Esc(o.evidence()), Esc(o.report().empty() ? "" : "\n" + o.report()),
                                 "</failure>"));
    } else if (o.outcome() == "skip") {
      ++skipped;
      add(o.name(), absl::StrCat("<skipped message=\"", Esc(o.evidence()), "\"/>"));
    } else {
      add(o.name(), "");
    }
  }
  if (v.oracles_size() == 0) {
    bool error = v.verdict() != "fail";
    (error ? errors : failures)++;
    add("run", absl::StrCat(error ? "<error" : "<failure", " message=\"", Esc(v.signature()),
                            "\"/>"));
  }
  return absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"%s\" tests=\"%d\" "
      "failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.1f\">\n"
      "  <properties><property name=\"seed\" value=\"%d\"/><property name=\"kernel\" "
      "value=\"%s\"/><property name=\"tool\" value=\"%s\"/></properties>\n%s</testsuite>\n",
      Esc(name), tests, failures, errors, skipped, v.observed_s(), v.seed(),
      Esc(v.kernel().release()), Esc(v.tool()), cases);
}

namespace {

// KTAP test names end at " #" and at the line's end.
std::string KtapName(const std::string& s) {
  return absl::StrReplaceAll(s, {{"#", "_"}, {"\n", " "}});
}

// Text as diagnostic lines, each "# ", at `indent`.
std::string KtapDiagnostic(const std::string& indent, const std::string& text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&out, indent, "# ", line, "\n");
  }
  return out;
}

}  // namespace

std::string RunKtap(const std::string& name, const Verdict& v) {
  std::string out = absl::StrCat("KTAP version 1\n",
                                 KtapDiagnostic("", absl::StrCat(v.tool(), ": ", name, " seed ",
                                                                 v.seed(), " on ",
                                                                 v.kernel().release())),
                                 "1..1\n");
  if (v.oracles_size() > 0) {
    absl::StrAppend(&out, "  KTAP version 1\n  # Subtest: ", KtapName(name), "\n  1..",
                    v.oracles_size(), "\n");
    for (int i = 0; i < v.oracles_size(); ++i) {
      const OracleResult& o = v.oracles(i);
      if (o.outcome() == "skip") {
        absl::StrAppend(&out, "  ok ", i + 1, " ", KtapName(o.name()), " # SKIP ",
                        KtapName(o.evidence()), "\n");
        continue;
      }
      absl::StrAppend(&out, KtapDiagnostic("  ", o.evidence()),
                      o.outcome() == "fail" && o.report() != o.evidence() ? KtapDiagnostic("  ", o.report()) : "", "  ",
                      o.outcome() == "fail" ? "not ok " : "ok ", i + 1, " ", KtapName(o.name()),
                      "\n");
    }
  }
  if (v.verdict() == "pass") return absl::StrCat(out, "ok 1 ", KtapName(name), "\n");
  if (v.verdict() == "fail") {
    return absl::StrCat(out, KtapDiagnostic("", v.signature()), "not ok 1 ", KtapName(name), "\n");
  }
  return absl::StrCat(out, "not ok 1 ", KtapName(name), " # ERROR ", KtapName(v.signature()), "\n");
}

}  // namespace swapchaos::controller
