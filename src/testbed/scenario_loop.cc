// ScenarioRun, step 2: the event loop -- wire events and lwIP timers in time order, until the
// workload completes or fails, makes no progress for --stall seconds, or runs out of time.
#include <algorithm>

#include "testbed/peer_hook.h"
#include "testbed/scenario_run.h"

namespace autonic::testbed {

// Whether the workload is complete; sets `outcome` to the first failure seen and `progress` to
// a count that moves whenever the workload does.
bool ScenarioRun::step_done(std::string& outcome, uint64_t& progress) const {
  bool churned = true;
  uint64_t churn_progress = 0;
  if (churn_) {
    churned = churn_->done();
    churn_progress = churn_->progress();
    if (outcome.empty()) outcome = churn_->failure();
  }
  if (turns_) {  // O(1): FlowTurns keeps the tally (a loop over 128K flows per event would not do)
    progress = turns_->progress() + churn_progress;
    if (outcome.empty()) outcome = turns_->failure();
    return turns_->done() && churned;
  }
  const bool bulk = bulk_done(outcome, progress);
  progress += churn_progress;
  return bulk && churned;
}

bool ScenarioRun::bulk_done(std::string& outcome, uint64_t& progress) const {
  bool done = true;
  progress = 0;
  for (const Flow& f : flows_) {
    for (const apps::BulkReceiver* rcv : {f.receiver.get(), f.rreceiver.get()}) {
      if (!rcv) continue;
      done = done && rcv->complete();
      progress += rcv->received();
      if (outcome.empty() && rcv->failure) outcome = *rcv->failure;
    }
    if (outcome.empty() && f.sender->failure) outcome = *f.sender->failure;
    if (outcome.empty() && f.rsender && f.rsender->failure) outcome = *f.rsender->failure;
  }
  if (nvme_) {
    done = fio_->done();
    progress = fio_->bytes_read_ok + fio_->bytes_written + fio_->ios;
    if (outcome.empty() && fio_->failure) outcome = *fio_->failure;
    if (outcome.empty() && !nvme_failure_.empty()) outcome = nvme_failure_;
    if (outcome.empty() && ctrl_ && !ctrl_->failure().empty()) outcome = "controller:" + ctrl_->failure();
    // A host stand-in never completes: only the controller's verdict ends the run.
    if (cfg_.nvme_peer && cfg_.nvme_peer->side() == NvmePeerHook::Side::kHost) done = false;
  }
  return done;
}

// Moves time to the next wire event or lwIP timer and runs what is due.
void ScenarioRun::advance(Nanos& next_timer) {
  const Nanos t = events_.empty() ? next_timer : std::min(events_.next_time(), next_timer);
  if (cfg_.real_clock) {
    while (rclock_.now() < t) {}  // spin: benchmarks only, one thread
  } else {
    vclock_.advance_to(t);
  }
  const Nanos now = clock_.now();
  while (!events_.empty() && events_.next_time() <= now) events_.run_next();
  if (now >= next_timer) {
    CpuScope scope(&meter_, CpuDomain::kOther);
    next_timer = tcpip::lwip_run_timers();
  }
}

// Lets frames already on their way arrive (alerts, TermReqs, RSTs): a short drain in virtual
// time, so the peer's view of the teardown is part of the run.
void ScenarioRun::drain() {
  if (cfg_.real_clock) return;
  const Nanos until = clock_.now() + 2'000'000;
  while (!events_.empty() && events_.next_time() <= until) {
    vclock_.advance_to(events_.next_time());
    events_.run_next();
  }
}

std::string ScenarioRun::run() {
  const Nanos limit = Nanos(cfg_.time_limit_s * 1e9), stall = Nanos(cfg_.stall_s * 1e9);
  Nanos next_timer = 0, last_progress_t = 0;
  uint64_t last_progress = 0;
  std::string outcome;
  for (;;) {
    uint64_t progress = 0;
    if (step_done(outcome, progress) || !outcome.empty()) break;
    const Nanos now = clock_.now();
    if (progress != last_progress) {
      last_progress = progress;
      last_progress_t = now;
    } else if (now - last_progress_t > stall) {
      outcome = "stalled";
      break;
    }
    if (now > limit) {
      outcome = "time_limit";
      break;
    }
    advance(next_timer);
  }
  drain();
  meter_.flush();
  return outcome;
}

}  // namespace autonic::testbed
