#include "controller/oracles/signatures.h"

#include <algorithm>
#include <array>
#include <regex>

namespace swapchaos::controller {
namespace {

// Where a report's guilty function comes from.
enum class Guilty {
  kNone,      // the title needs none (or names it from the first line)
  kTrace,     // the first reliable call-trace frame that is not machinery
  kRip,       // the faulting RIP, else as kTrace
  kLockSite,  // lockdep's first "at: func+0x..": the lock being taken
};

struct Signature {
  const char* keyword;  // a plain substring every matching line has (a cheap filter)
  const char* pattern;  // ECMAScript regex over the first line of the report
  const char* title;    // $N: the pattern's groups; {} the guilty function
  const char* fallback;  // the title when no guilty function is found
  Severity severity;
  Guilty guilty;
};

constexpr Severity kFatal = Severity::kFatal;
constexpr Severity kOutside = Severity::kOutsideFaults;
constexpr Severity kEvidence = Severity::kEvidence;

// The table, after syzkaller's pkg/report/linux.go. Adding a report kind is
// adding a row here and an excerpt to testdata/reports/ that starts with
// its expected TITLE: line. Order matters: specific rows first.
const Signature kSignatures[] = {
    {"Kernel panic", R"(Kernel panic - not syncing: ([^\r\n]*?)\s*$)", "kernel panic: $1",
     nullptr, kFatal, Guilty::kNone},
    {"KASAN", R"(BUG: KASAN: ([a-z-]+) in ([A-Za-z0-9_]+))", "KASAN: $1 in $2", nullptr, kFatal,
     Guilty::kNone},
    {"KFENCE", R"(BUG: KFENCE: ([a-z-]+(?: read| write)?) in ([A-Za-z0-9_]+))", "KFENCE: $1 in $2",
     nullptr, kFatal, Guilty::kNone},
    {"UBSAN", R"(UBSAN: ([a-z-]+) in )", "UBSAN: $1 in {}", "UBSAN: $1", kFatal, Guilty::kTrace},
    {"circular locking", R"(WARNING: possible circular locking dependency detected)",
     "possible deadlock in {}", "possible deadlock", kFatal, Guilty::kLockSite},
    {"recursive locking", R"(WARNING: possible recursive locking detected)",
     "possible deadlock in {}", "possible deadlock", kFatal, Guilty::kLockSite},
    {"inconsistent lock state", R"(WARNING: inconsistent lock state)",
     "inconsistent lock state in {}", "inconsistent lock state", kFatal, Guilty::kLockSite},
    {"suspicious RCU usage", R"(WARNING: suspicious RCU usage)", "suspicious RCU usage in {}",
     "suspicious RCU usage", kFatal, Guilty::kTrace},
    {"sleeping function", R"(BUG: sleeping function called from invalid context)",
     "BUG: sleeping function called from invalid context in {}",
     "BUG: sleeping function called from invalid context", kFatal, Guilty::kTrace},
    {"scheduling while atomic", R"(BUG: scheduling while atomic)",
     "BUG: scheduling while atomic in {}", "BUG: scheduling while atomic", kFatal, Guilty::kTrace},
    {"corruption", R"((list_add|list_del|list_add_rcu) corruption)", "$1 corruption in {}",
     "$1 corruption", kFatal, Guilty::kTrace},
    {"kernel BUG at", R"(kernel BUG at ([^:\s]+):\d+)", "kernel BUG in {}", "kernel BUG at $1",
     kFatal, Guilty::kRip},
    {"general protection fault", R"(general protection fault)", "general protection fault in {}",
     "general protection fault", kFatal, Guilty::kRip},
    {"BUG: kernel NULL pointer", R"(BUG: kernel NULL pointer dereference)",
     "BUG: kernel NULL pointer dereference in {}", "BUG: kernel NULL pointer dereference",
     kFatal, Guilty::kRip},
    {"BUG: unable to handle", R"(BUG: unable to handle (?:page fault|kernel paging request))",
     "BUG: unable to handle kernel paging request in {}",
     "BUG: unable to handle kernel paging request", kFatal, Guilty::kRip},
    {"BUG: soft lockup", R"(BUG: soft lockup - CPU#\d+ stuck for \d+s! \[(.+):\d+\])",
     "BUG: soft lockup in {}", "BUG: soft lockup in $1", kOutside, Guilty::kRip},
    {"BUG: workqueue lockup", R"(BUG: workqueue lockup)", "BUG: workqueue lockup", nullptr,
     kOutside, Guilty::kNone},
    {"BUG:", R"(BUG: ([A-Za-z][^:,\[]*[A-Za-z]))", "BUG: $1 in {}", "BUG: $1", kFatal,
     Guilty::kRip},
    {"Oops", R"(Oops: [0-9a-f]+ \[#\d+\])", "Oops in {}", "Oops", kFatal, Guilty::kRip},
    {"invalid opcode", R"(invalid opcode: [0-9a-f]+ \[#\d+\])", "invalid opcode in {}",
     "invalid opcode", kFatal, Guilty::kRip},
    {"WARNING", R"(WARNING: CPU: \d+ PID: \d+ at \S+ ([A-Za-z0-9_]+))", "WARNING in $1", nullptr,
     kFatal, Guilty::kNone},
    {"hard LOCKUP", R"(Watchdog detected hard LOCKUP on cpu)", "hard lockup in {}", "hard lockup",
     kOutside, Guilty::kRip},
    {"stall", R"(rcu: INFO: \S+ (?:self-)?detected stalls? on CPU)", "RCU stall in {}",
     "RCU stall", kOutside, Guilty::kRip},
    {"INFO: task", R"(INFO: task (.+):\d+ blocked for more than \d+ seconds)",
     "INFO: task hung in {}", "INFO: task hung: $1", kOutside, Guilty::kTrace},
    {"Out of memory", R"(Out of memory: Killed process \d+ \(([^)]*)\))", "OOM kill of $1",
     nullptr, kOutside, Guilty::kNone},
    // The reserve ran dry (kReserve): with a real reserve the stock build
    // never logs it (0 of 98 suite runs at 5% of RAM), the page allocator
    // fix reverted by kernels/mutants/watermark-negative-free does.
    {"page allocation failure",
     R"(page allocation failure: order:(\d+), mode:0x[0-9a-f]+\([^)]*__GFP_MEMALLOC)",
     "reserve page allocation failure: order:$1 in {}", "reserve page allocation failure: order:$1",
     Severity::kReserve, Guilty::kTrace},
    {"page allocation failure", R"(page allocation failure: order:(\d+))",
     "page allocation failure: order:$1 in {}", "page allocation failure: order:$1", kEvidence,
     Guilty::kTrace},
    {"Read-error", R"(Read-error on swap-device)", "Read-error on swap-device", nullptr, kOutside,
     Guilty::kNone},
    {"Write-error", R"(Write-error on swap-device)", "Write-error on swap-device", nullptr,
     kOutside, Guilty::kNone},
    {"I/O error", R"(I/O error, dev (nbd)\d+, sector)", "I/O error on $1", nullptr, kOutside,
     Guilty::kNone},
    {"Possible stuck request", R"(nbd\d*: Possible stuck request)", "nbd: possible stuck request",
     nullptr, kOutside, Guilty::kNone},
    {"Connection timed out", R"(nbd\d*: Connection timed out)", "nbd: connection timed out",
     nullptr, kOutside, Guilty::kNone},
    {"Dead connection", R"(nbd\d*: Dead connection, failed to find a fallback)",
     "nbd: dead connection", nullptr, kOutside, Guilty::kNone},
};

// Frames that say how the kernel noticed, waited or allocated, never whose
// bug it is: the guilty function is the first frame past them. Names match
// whole or, ending in '*', by prefix.
constexpr std::array kMachinery = {
    // reporting
    "dump_stack*", "show_stack", "show_regs", "__warn*", "warn_slowpath*", "report_bug",
    "handle_bug", "exc_*", "asm_*", "do_error_trap", "do_trap", "die",
    "__die*", "oops_*", "panic", "print_*", "_printk", "printk*", "vprintk*", "kasan_*",
    "__kasan_*", "__asan_*", "kfence_*", "__kfence_*", "ubsan_*", "__ubsan_*",
    "__list_add_valid*", "__list_del_entry_valid*", "__might_resched", "__might_sleep",
    "___might_sleep", "__might_fault", "__schedule_bug", "lockdep_*", "lock_acquire*",
    "__lock_acquire", "lock_release", "check_*", "validate_chain", "mark_lock*",
    "watchdog_*", "__hrtimer_run_queues", "hrtimer_interrupt", "__sysvec_*", "sysvec_*",
    "irq_exit_rcu", "__irq_exit_rcu", "rcu_*", "__rcu_*",
    // interrupts and softirqs: how the CPU got there, not whose code it ran
    "common_interrupt", "handle_softirqs", "__do_softirq", "do_softirq*", "run_ksoftirqd",
    "net_rx_action", "__napi_poll",
    // waiting and locking
    "__schedule", "schedule", "schedule_*", "preempt_schedule*", "io_schedule*",
    "__wait_for_common", "wait_for_completion*", "do_wait_for_common", "__synchronize_srcu",
    "synchronize_*", "mutex_lock*", "__mutex_lock*", "mutex_*_slowpath", "down", "down_*",
    "__down*", "rwsem_down_*", "bit_wait*", "out_of_line_wait_on_bit*", "__wait_on_bit*",
    "folio_wait_*", "__folio_lock*", "wait_on_page_*", "_raw_spin_*", "_raw_read_*",
    "_raw_write_*", "do_raw_spin_*", "queued_spin_*", "native_queued_*", "rq_qos_wait",
    "wbt_wait", "__rq_qos_throttle",
    // allocating
    "warn_alloc", "__alloc_pages*", "alloc_pages*", "__folio_alloc*", "folio_alloc*",
    "vma_alloc_folio", "page_frag_alloc*", "__page_frag_cache_refill", "skb_page_frag_refill",
    "sk_page_frag_refill", "__netdev_alloc_skb", "__napi_alloc_skb", "kmalloc*", "__kmalloc*",
    "kmem_cache_alloc*", "slab_alloc*", "__slab_alloc*", "___slab_alloc", "new_slab",
    "allocate_slab", "__alloc_skb", "alloc_skb*",
    // where every thread starts
    "ret_from_fork", "kthread", "worker_thread", "process_one_work", "smpboot_thread_fn",
    "entry_SYSCALL_64*", "do_syscall_64"};

bool IsMachinery(std::string_view fn) {
  return std::any_of(kMachinery.begin(), kMachinery.end(), [&](std::string_view m) {
    if (m.ends_with('*')) return fn.starts_with(m.substr(0, m.size() - 1));
    return fn == m;
  });
}

const std::vector<std::pair<std::regex, const Signature*>>& Compiled() {
  static const auto* compiled = [] {
    auto* v = new std::vector<std::pair<std::regex, const Signature*>>();
    for (const Signature& s : kSignatures) v->emplace_back(std::regex(s.pattern), &s);
    return v;
  }();
  return *compiled;
}

// The row whose report `line` opens, if any (m: its match).
const Signature* Match(const std::string& line, std::smatch* m) {
  for (const auto& [re, sig] : Compiled()) {
    if (line.find(sig->keyword) != std::string::npos && std::regex_search(line, *m, re)) return sig;
  }
  return nullptr;
}

// Whether `next` opens a report of its own or carries on the one `opening`
// opened: an oops's header line follows the line that opened the oops, and
// a corrupted list's BUG follows the line that says what was corrupted.
bool OpensAnother(const Signature& opening, const Signature* next) {
  if (next == nullptr) return false;
  std::string_view kw = next->keyword;
  if (kw == "Oops" || kw == "invalid opcode") return false;
  return !(kw == "kernel BUG at" && std::string_view(opening.keyword) == "corruption");
}

// Longer than any line printk makes (1 KiB); a longer one is junk, and
// std::regex's recursion must never see it whole.
constexpr size_t kMaxLine = 4096;

// The kernel's "[ uptime]" on the line, wherever it starts: the serial
// console also carries the guest agent's messages, and a kernel line may
// follow one without a newline between them. Returns where the text after
// it starts (0 without one).
size_t KernelTimestamp(std::string_view line, double* uptime_s) {
  static const std::regex ts(R"(\[\s*(\d+\.\d+)\])");
  std::match_results<std::string_view::const_iterator> m;
  *uptime_s = -1;
  if (!std::regex_search(line.begin(), line.end(), m, ts)) return 0;
  *uptime_s = std::stod(m[1]);
  return static_cast<size_t>(m.position(0) + m.length(0));
}

std::string_view Body(std::string_view line) {
  double unused;
  return line.substr(KernelTimestamp(line, &unused));
}

// " func+0x1a/0x20 [mod]": the function, without a compiler suffix
// (.constprop.0, .isra.0, .cold); empty if the line is no frame or an
// unreliable one ("? func+...").
std::string_view FrameFunction(std::string_view body) {
  size_t i = body.find_first_not_of(' ');
  if (i == std::string_view::npos || body.substr(i).starts_with("?")) return {};
  size_t plus = body.find("+0x", i);
  if (plus == std::string_view::npos) return {};
  std::string_view fn = body.substr(i, plus - i);
  if (fn.empty() || fn.find_first_of(" :,()") != std::string_view::npos) return {};
  return fn.substr(0, fn.find('.'));
}

bool IsTraceLine(std::string_view body) {
  size_t i = body.find_first_not_of(' ');
  if (i == std::string_view::npos) return false;
  std::string_view t = body.substr(i);
  if (t.starts_with("<") || t.starts_with("? ")) return true;  // <TASK>, </IRQ>, ...
  if (t.size() >= 4 && t[0] == 'R' && t[3] == ':') return true;  // RIP:, RAX:, R08:
  return !FrameFunction(body).empty() || t.starts_with("Code:");
}

struct Extent {
  size_t end = 0;  // one past the report's last line
  std::string_view guilty;
};

// How far the report starting at lines[first] goes (through the end of its
// call trace, or "---[ end trace"; before a trace, up to the next report's
// first line), and its guilty function.
Extent Measure(const std::vector<std::string_view>& lines, size_t first, const Signature& sig) {
  constexpr size_t kLookahead = 150;  // lockdep's header runs long before its trace
  constexpr size_t kNoTraceLines = 20;  // a report without a trace: its header at most
  Extent e{first + 1, {}};
  std::string_view rip, lock_site, frame;
  bool in_trace = false, any_frame = false;
  size_t header_end = first + 1;
  for (size_t j = first + 1; j < lines.size() && j < first + kLookahead; ++j) {
    std::string_view b = Body(lines[j].substr(0, kMaxLine));
    if (b.find("---[ end trace") != std::string_view::npos) {
      e.end = j + 1;
      break;
    }
    if (b.find("Call Trace:") != std::string_view::npos) {
      in_trace = true;
      e.end = j + 1;
      continue;
    }
    if (!in_trace) {
      std::smatch unused;
      if (OpensAnother(sig, Match(std::string(b), &unused))) break;
      if (j < first + kNoTraceLines) header_end = j + 1;
      if (size_t at = b.find("RIP: "); at != std::string_view::npos && rip.empty()) {
        size_t colon = b.find(':', at + 5);
        if (colon != std::string_view::npos) rip = FrameFunction(b.substr(colon + 1));
      }
      if (size_t at = b.find(", at: "); at != std::string_view::npos && lock_site.empty()) {
        lock_site = FrameFunction(b.substr(at + 5));
      }
      continue;
    }
    if (!IsTraceLine(b)) {
      if (any_frame) break;
      continue;
    }
    // The first frame is where the report was raised, in an interrupt or
    // not (an allocation failing in a softirq is the softirq's): the first
    // frame past the machinery is the guilty one.
    std::string_view fn = FrameFunction(b);
    any_frame |= !fn.empty();
    if (frame.empty() && !fn.empty() && !IsMachinery(fn)) frame = fn;
    e.end = j + 1;
  }
  switch (sig.guilty) {
    case Guilty::kNone:
      break;
    case Guilty::kRip:
      e.guilty = !rip.empty() && !IsMachinery(rip) ? rip : frame;
      break;
    case Guilty::kTrace:
      e.guilty = frame;
      break;
    case Guilty::kLockSite:
      e.guilty = lock_site.empty() ? frame : lock_site;
      break;
  }
  if (!in_trace && sig.guilty != Guilty::kNone) e.end = header_end;
  return e;
}

std::string Title(const std::smatch& m, const Signature& sig, std::string_view guilty) {
  std::string title;
  if (guilty.empty() && sig.fallback != nullptr) {
    title = m.format(sig.fallback);
  } else {
    title = m.format(sig.title);
    if (size_t at = title.find("{}"); at != std::string::npos) title.replace(at, 2, guilty);
  }
  // Per-CPU kernel threads (kworker/1:1H) differ by CPU from run to run.
  static const std::regex per_cpu(R"(\b(kworker|ksoftirqd|migration|cpuhp)/\S+)");
  return std::regex_replace(title, per_cpu, "$1");
}

}  // namespace

namespace {

// Console text goes on to terminals (titles, excerpts): a control byte in
// it (an escape sequence the guest printed) becomes '?'.
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

std::vector<ConsoleFinding> ScanConsole(std::string_view console) {
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < console.size();) {
    size_t end = console.find('\n', start);
    if (end == std::string_view::npos) end = console.size();
    std::string_view line = console.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  std::vector<ConsoleFinding> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string line = Printable(lines[i].substr(0, kMaxLine));
    std::smatch m;
    const Signature* hit = Match(line, &m);
    if (hit == nullptr) continue;
    Extent e = Measure(lines, i, *hit);
    ConsoleFinding f;
    f.title = Title(m, *hit, e.guilty);
    KernelTimestamp(line, &f.uptime_s);
    f.line = line;
    f.line_number = i + 1;
    f.severity = hit->severity;
    for (size_t j = i; j < e.end; ++j) {
      f.report.append(Printable(lines[j].substr(0, kMaxLine)));
      f.report.push_back('\n');
    }
    out.push_back(std::move(f));
    // Lines of this report (its Oops line, its trace) open no other.
    i = e.end - 1;
  }
  return out;
}

}  // namespace swapchaos::controller
