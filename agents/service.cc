#include "agents/service.h"

#include <fcntl.h>
#include <signal.h>
#include <net/if.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agents/bench/netem_bench.h"
#include "agents/nbd/handshake.h"
#include "agents/nbd/netlink.h"
#include "agents/reach/reach.h"
#include "agents/swap/swap.h"
#include "agents/telemetry/procfs.h"
#include "agents/telemetry/sampler.h"
#include "agents/telemetry/stall_watch.h"
#include "agents/telemetry/throttle.h"
#include "agents/workload/spike.h"
#include "faults/netem.h"
#include "faults/netem_proto.h"
#include "faults/rtnl.h"

namespace swapchaos::agents {
namespace {

constexpr int kHandshakeTimeoutMs = 10000;
constexpr char kMinFreeKbytes[] = "vm.min_free_kbytes";
constexpr char kWatermarkBoostFactor[] = "vm.watermark_boost_factor";

// absl codes and gRPC codes share their numbering.
grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

// The NIC the controller talks over: a fault there would cut the run off.
constexpr char kControlNic[] = "ctl0";

// Fills `reply` with what the kernel has in effect on `iface`.
grpc::Status ReadBack(const std::string& iface, agent::NetemState* reply) {
  auto current = faults::ReadNetem(iface);
  if (!current.ok()) return ToGrpc(current.status());
  reply->set_iface(iface);
  reply->set_present(current->has_value());
  if (current->has_value()) {
    *reply->mutable_netem() = faults::ToProto((*current)->params);
    reply->set_tcp_port((*current)->tcp_port);
  }
  return grpc::Status::OK;
}

grpc::Status FaultableNic(const std::string& iface) {
  if (iface.empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "iface is required");
  if (iface == kControlNic) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "ctl0 is the control NIC; faults never touch it");
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AgentService::ApplyNetem(grpc::ServerContext*, const agent::NetemRequest* req,
                                      agent::NetemState* reply) {
  if (grpc::Status s = FaultableNic(req->iface()); !s.ok()) return s;
  if (req->tcp_port() > 65535) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "tcp_port must be 0..65535");
  }
  if (absl::Status s = faults::ApplyNetem(req->iface(), faults::FromProto(req->netem()),
                                          static_cast<uint16_t>(req->tcp_port()));
      !s.ok()) {
    return ToGrpc(s);
  }
  return ReadBack(req->iface(), reply);
}

grpc::Status AgentService::ReadNetem(grpc::ServerContext*, const agent::NicRequest* req,
                                     agent::NetemState* reply) {
  return ReadBack(req->iface(), reply);
}

grpc::Status AgentService::RevertNetem(grpc::ServerContext*, const agent::NicRequest* req,
                                       agent::NetemState* reply) {
  if (grpc::Status s = FaultableNic(req->iface()); !s.ok()) return s;
  if (absl::Status s = faults::RevertNetem(req->iface()); !s.ok()) return ToGrpc(s);
  return ReadBack(req->iface(), reply);
}

grpc::Status AgentService::BenchNetem(grpc::ServerContext*, const agent::BenchNetemRequest* req,
                                      agent::BenchNetemReply* reply) {
  if (grpc::Status s = FaultableNic(req->iface()); !s.ok()) return s;
  if (req->rounds() == 0 || req->rounds() > 10000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "rounds must be 1..10000");
  }
  auto r = bench::BenchNetemApply(req->iface(), static_cast<int>(req->rounds()), "/usr/bin/tc",
                                  std::chrono::milliseconds(req->tc_bound_ms()));
  if (!r.ok()) return ToGrpc(r.status());
  for (double ms : r->libnl_ms) reply->add_libnl_ms(ms);
  for (double ms : r->tc_ms) reply->add_tc_ms(ms);
  reply->set_tc_timeouts(static_cast<uint32_t>(r->tc_timeouts));
  return grpc::Status::OK;
}

grpc::Status AgentService::SetLink(grpc::ServerContext* ctx, const agent::LinkRequest* req,
                                   agent::LinkState* reply) {
  if (grpc::Status s = FaultableNic(req->iface()); !s.ok()) return s;
  auto rtnl = faults::Rtnl::Open();
  if (!rtnl.ok()) return ToGrpc(rtnl.status());
  if (absl::Status s = (*rtnl)->SetUp(req->iface(), req->up()); !s.ok()) return ToGrpc(s);
  agent::NicRequest nic;
  nic.set_iface(req->iface());
  return ReadLink(ctx, &nic, reply);
}

grpc::Status AgentService::ReadLink(grpc::ServerContext*, const agent::NicRequest* req,
                                    agent::LinkState* reply) {
  auto rtnl = faults::Rtnl::Open();
  if (!rtnl.ok()) return ToGrpc(rtnl.status());
  auto link = (*rtnl)->ReadLink(req->iface());
  if (!link.ok()) return ToGrpc(link.status());
  reply->set_iface(req->iface());
  reply->set_admin_up(link->admin_up);
  reply->set_carrier(link->carrier);
  return grpc::Status::OK;
}

namespace {
void ToProto(const std::string& name, const faults::VmSysctls::State& s,
             agent::SysctlState* reply) {
  reply->set_name(name);
  reply->set_value(s.value);
  reply->set_original(s.original);
}
}  // namespace

grpc::Status AgentService::SetSysctl(grpc::ServerContext*, const agent::SysctlRequest* req,
                                     agent::SysctlState* reply) {
  auto state = sysctls_.Set(req->name(), req->value());
  if (!state.ok()) return ToGrpc(state.status());
  ToProto(req->name(), *state, reply);
  return grpc::Status::OK;
}

grpc::Status AgentService::RestoreSysctl(grpc::ServerContext*, const agent::SysctlRequest* req,
                                         agent::SysctlState* reply) {
  auto state = sysctls_.Restore(req->name());
  if (!state.ok()) return ToGrpc(state.status());
  ToProto(req->name(), *state, reply);
  return grpc::Status::OK;
}

grpc::Status AgentService::ScanTcp(grpc::ServerContext*, const agent::ScanTcpRequest* req,
                                   agent::ScanTcpReply* reply) {
  std::set<uint32_t> skip(req->skip_ports().begin(), req->skip_ports().end());
  auto scan = agents::ScanTcp(req->address(), req->first_port(), req->last_port(), skip,
                              std::chrono::milliseconds(req->timeout_ms()));
  if (!scan.ok()) return ToGrpc(scan.status());
  for (uint16_t port : scan->open) reply->add_open_ports(port);
  reply->set_refused(scan->refused);
  reply->set_silent(scan->silent);
  reply->set_unreachable(scan->unreachable);
  return grpc::Status::OK;
}

agent::SpikeState AgentService::SpikeStatus(int32_t pid) {
  agent::SpikeState state;
  state.set_pid(pid);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = spikes_.find(pid); it != spikes_.end() && !it->second.empty()) {
      state.set_ended(it->second);
      return state;
    }
  }
  std::string text = telemetry::ReadProcFile(absl::StrCat("/proc/", pid, "/status"));
  state.set_running(!text.empty());
  std::map<std::string, uint64_t> status = telemetry::ParseKeyNumbers(text);
  state.set_rss_kib(status["VmRSS"]);
  state.set_locked_kib(status["VmLck"]);
  if (auto ms = spike_pool_->FullAfterMs(pid)) {
    state.set_full(true);
    state.set_full_after_ms(*ms);
  }
  return state;
}

grpc::Status AgentService::ReadSpike(grpc::ServerContext*, const agent::SpikeRef* req,
                                     agent::SpikeState* reply) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spikes_.count(req->pid())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no spike ", req->pid()));
    }
  }
  *reply = SpikeStatus(req->pid());
  return grpc::Status::OK;
}

grpc::Status AgentService::StopSpike(grpc::ServerContext* ctx, const agent::SpikeRef* req,
                                     agent::SpikeState* reply) {
  if (grpc::Status s = ReadSpike(ctx, req, reply); !s.ok() || !reply->running()) return s;
  kill(req->pid(), SIGKILL);
  // The reaper records the end; a SIGKILLed process goes quickly, even swapped out.
  for (int i = 0; i < 500 && SpikeStatus(req->pid()).ended().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  *reply = SpikeStatus(req->pid());
  return grpc::Status::OK;
}

grpc::Status AgentService::Info(grpc::ServerContext*, const agent::InfoRequest*,
                                agent::InfoReply* reply) {
  reply->set_role(role_);
  utsname u;
  if (uname(&u) == 0) reply->set_kernel_release(u.release);
  reply->set_cpus(static_cast<uint32_t>(sysconf(_SC_NPROCESSORS_ONLN)));
  reply->set_mem_total_kib(static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                           static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024);
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  reply->set_uptime_ms(static_cast<uint64_t>(ts.tv_sec) * 1000 +
                       static_cast<uint64_t>(ts.tv_nsec) / 1000000);
  if (struct if_nameindex* names = if_nameindex()) {
    for (struct if_nameindex* n = names; n->if_index != 0; ++n) reply->add_interfaces(n->if_name);
    if_freenameindex(names);
  }
  reply->set_memory_locked(memory_locked_);
  return grpc::Status::OK;
}

grpc::Status AgentService::SwapConnect(grpc::ServerContext*, const agent::SwapConnectRequest* req,
                                       agent::SwapStatus* reply) {
  if (role_ != agent::ROLE_VICTIM) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "only the victim swaps");
  }
  if (req->server_port() == 0 || req->server_port() > 65535) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "server_port must be 1..65535");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (swap_.active()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("swap is already on ", swap_.device()));
  }
  // The reserve swap over NBD digs into and how kswapd keeps it, set before
  // the first page goes out; an unset field leaves the kernel's value.
  std::vector<std::pair<const char*, uint32_t>> baselines;
  if (req->min_free_kbytes() != 0) baselines.emplace_back(kMinFreeKbytes, req->min_free_kbytes());
  if (req->has_watermark_boost_factor()) {
    baselines.emplace_back(kWatermarkBoostFactor, req->watermark_boost_factor());
  }
  for (const auto& [name, value] : baselines) {
    auto set = sysctls_.SetBaseline(name, absl::StrCat(value));
    if (!set.ok()) return ToGrpc(set.status());
  }
  auto fd = nbd::ConnectTcp(req->server_address(), static_cast<uint16_t>(req->server_port()),
                            kHandshakeTimeoutMs);
  if (!fd.ok()) return ToGrpc(fd.status());
  auto exp = nbd::Negotiate(*fd, req->export_name(), kHandshakeTimeoutMs);
  if (!exp.ok()) {
    close(*fd);
    return ToGrpc(exp.status());
  }
  nbd::ConnectParams params;
  params.sock_fd = *fd;
  params.index = 0;
  params.size_bytes = exp->size_bytes;
  params.server_flags = exp->transmission_flags;
  params.timeout_s = req->request_timeout_s();
  params.dead_conn_timeout_s = req->dead_conn_timeout_s();
  // From here on each step is the kernel's to take; its refusing one is a
  // finding about the kernel under test, said with ABORTED (agent.proto).
  auto refused = [](const absl::Status& st) {
    return grpc::Status(grpc::StatusCode::ABORTED, std::string(st.message()));
  };
  auto index = nbd::Connect(params);
  close(*fd);  // the kernel holds its own reference now
  if (!index.ok()) return refused(index.status());
  std::string device = absl::StrCat("/dev/nbd", *index);

  int dev = open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (dev < 0) {
    return refused(absl::UnavailableError(absl::StrCat("open ", device, ": ", std::strerror(errno))));
  }
  absl::Status header = swap::WriteSwapHeader(dev, exp->size_bytes);
  close(dev);
  if (!header.ok()) return refused(header);
  if (absl::Status on = swap::SwapOn(device, req->swap_priority()); !on.ok()) return refused(on);
  if (!req->no_reconnect()) {
    auto r = nbd::Reconnector::Start(
        {req->server_address(), static_cast<uint16_t>(req->server_port()), req->export_name()});
    if (!r.ok()) return ToGrpc(r.status());
    reconnector_ = std::move(*r);
  }

  swap_.set_active(true);
  swap_.set_device(device);
  swap_.set_export_size_bytes(exp->size_bytes);
  swap_.set_nbd_index(*index);
  swap_.set_transmission_flags(exp->transmission_flags);
  if (auto reserve = sysctls_.Read(kMinFreeKbytes); reserve.ok()) {
    uint32_t kib = 0;
    if (absl::SimpleAtoi(*reserve, &kib)) swap_.set_min_free_kbytes(kib);
  }
  std::printf("swapchaos-agent: swap on %s, %llu bytes from %s:%u\n", device.c_str(),
              static_cast<unsigned long long>(exp->size_bytes), req->server_address().c_str(),
              req->server_port());
  std::fflush(stdout);
  *reply = swap_;
  return grpc::Status::OK;
}

grpc::Status AgentService::GetSwapStatus(grpc::ServerContext*, const agent::SwapStatusRequest*,
                                         agent::SwapStatus* reply) {
  std::lock_guard<std::mutex> lock(mu_);
  *reply = swap_;
  return grpc::Status::OK;
}

grpc::Status AgentService::Telemetry(grpc::ServerContext* ctx, const agent::TelemetryRequest* req,
                                     grpc::ServerWriter<agent::Sample>* writer) {
  if (!(req->rate_hz() > 0 && req->rate_hz() <= 100)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("rate_hz must be in (0, 100], got ", req->rate_hz()));
  }
  auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / req->rate_hz()));
  telemetry::Sampler sampler;
  telemetry::ThrottleTracker throttles;
  telemetry::StallWatch watch("telemetry", std::chrono::seconds(3));
  auto next = std::chrono::steady_clock::now();
  while (!ctx->IsCancelled()) {
    watch.Enter("reading the kernel's counters");
    agent::Sample sample = sampler.Next();
    AddTasks(&sample);
    throttles.Annotate(&sample);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (reconnector_) {
        sample.set_nbd_link_deaths(reconnector_->link_deaths());
        sample.set_nbd_reconnects(reconnector_->reconnects());
      }
    }
    watch.Enter("sending a sample to the controller");
    bool sent = writer->Write(sample);
    watch.Leave();
    if (!sent) break;
    next += period;
    std::this_thread::sleep_until(next);
  }
  return grpc::Status::OK;
}

AgentService::AgentService(agent::Role role, bool memory_locked)
    : role_(role), memory_locked_(memory_locked) {
  if (role_ != agent::ROLE_VICTIM) return;
  spike_pool_ = std::make_unique<workload::SpikePool>(2, [this](pid_t pid, const std::string& how) {
    std::lock_guard<std::mutex> lock(mu_);
    spikes_[pid] = how;
    // The console keeps the record too.
    std::printf("swapchaos-agent: spike %d ended: %s\n", pid, how.c_str());
    std::fflush(stdout);
  }, workload::kSelf);
}

grpc::Status AgentService::Spike(grpc::ServerContext* ctx, const agent::SpikeRequest* req,
                                 agent::SpikeReply* reply) {
  if (!spike_pool_) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "only the victim makes spikes");
  }
  // A call that reached us after its caller gave up (the agent was stalled
  // in reclaim) must not start a spike nobody will stop.
  if (ctx->deadline() < std::chrono::system_clock::now()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the spike was asked for too late");
  }
  auto pid = spike_pool_->Start({req->mib(), req->seconds(), req->seed(), req->mlock()});
  if (!pid.ok()) return ToGrpc(pid.status());
  reply->set_pid(*pid);
  std::lock_guard<std::mutex> lock(mu_);
  spikes_.emplace(*pid, "");  // running, unless its end was recorded already
  return grpc::Status::OK;
}

grpc::Status AgentService::StartWorkload(grpc::ServerContext*, const agent::WorkloadRequest* req,
                                         agent::WorkloadReply* reply) {
  if (role_ != agent::ROLE_VICTIM) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "only the victim runs workloads");
  }
  if (!(req->ram_multiple() > 0 && req->ram_multiple() <= 64)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ram_multiple must be in (0, 64]");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (workload_ && !workload_->Finished()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "a workload is still running");
  }
  uint64_t ram =
      static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  workload::AnonMmapParams p;
  p.procs = req->procs_per_cpu() * static_cast<uint32_t>(sysconf(_SC_NPROCESSORS_ONLN));
  p.bytes_per_proc =
      p.procs == 0
          ? 0
          : static_cast<uint64_t>(static_cast<double>(ram) * req->ram_multiple()) / p.procs;
  p.passes = req->passes();
  p.write = req->write();
  p.seed = req->seed();
  auto w = workload::AnonMmapWorkload::Start(p);
  if (!w.ok()) return ToGrpc(w.status());
  workload_ = std::move(*w);
  reply->set_procs(p.procs);
  reply->set_bytes_per_proc(p.bytes_per_proc);
  std::printf("swapchaos-agent: workload of %u tasks x %llu MiB, %u passes (%s)\n", p.procs,
              static_cast<unsigned long long>(p.bytes_per_proc >> 20), p.passes,
              p.write ? "write" : "read");
  std::fflush(stdout);
  return grpc::Status::OK;
}

void AgentService::AddTasks(agent::Sample* sample) {
  std::vector<workload::TaskProgress> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!workload_) return;
    tasks = workload_->Progress();
  }
  static constexpr const char* kStates[] = {"running", "done", "data_loss", "failed", "killed"};
  for (const workload::TaskProgress& t : tasks) {
    agent::TaskSample* out = sample->add_tasks();
    out->set_pid(t.pid);
    out->set_index(t.index);
    out->set_pass(t.pass);
    out->set_pages(t.pages);
    out->set_state(kStates[static_cast<int>(t.state)]);
    out->set_detail(t.detail);
    if (t.state != workload::TaskProgress::State::kRunning) continue;
    std::string dir = absl::StrCat("/proc/", t.pid, "/");
    if (auto state = telemetry::ParseStatState(telemetry::ReadProcFile(dir + "stat")); state.ok()) {
      out->set_proc_state(*state);
    }
    std::string wchan = telemetry::ReadProcFile(dir + "wchan");
    out->set_wchan(wchan.substr(0, wchan.find('\n')));
  }
}

grpc::Status AgentService::Shutdown(grpc::ServerContext*, const agent::ShutdownRequest*,
                                    agent::ShutdownReply*) {
  // Answer first, then power off. No swapoff: reading every swapped page
  // back over the network could take minutes and the run is over anyway.
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    sync();
    reboot(RB_POWER_OFF);
  }).detach();
  return grpc::Status::OK;
}

}  // namespace swapchaos::agents
