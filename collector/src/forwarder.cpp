#include "forwarder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace zc::collector {
namespace {

using Steady = std::chrono::steady_clock;

// Samples are read up to this far past now, so a clock step between sampling and forwarding
// cannot hide one.
constexpr int64_t kSampleHorizonNs = 24 * 3600 * kNanosPerSecond;

}  // namespace

Forwarder::Forwarder(plugin::Storage& storage, plugin::Sink& sink, plugin::SinkHostInfo host,
                     Clock& clock, ForwarderOptions options)
    : storage_(storage),
      sink_(sink),
      host_(std::move(host)),
      clock_(clock),
      opts_(options),
      backoff_(options.backoffInitial) {}

Forwarder::~Forwarder() { stop(); }

void Forwarder::start() {
  task_ = std::make_unique<PeriodicTask>("forwarder", opts_.interval, [this] { runPass(); });
  task_->start();
}

void Forwarder::stop() noexcept {
  if (task_) task_->stop();
}

ForwardStats Forwarder::stats() const {
  std::lock_guard lock(statsMu_);
  return stats_;
}

void Forwarder::noteFailure(const Status& st, const char* what) {
  open_ = false;
  for (auto& [id, p] : progress_) p.known = false;  // ask the sink again after reconnecting
  nextOpen_ = Steady::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, opts_.backoffMax);
  std::string line = std::string(what) + ": " + st.toString();
  {
    std::lock_guard lock(statsMu_);
    stats_.connected = false;
    stats_.detail = line;
    ++stats_.failures;
  }
  // One line per new reason: a sink that stays away does not flood the log.
  if (line != lastLogged_) {
    spdlog::error("sink: {} (collecting locally; retrying with backoff up to {} s)", line,
                  opts_.backoffMax.count() / 1000);
    lastLogged_ = line;
  }
}

bool Forwarder::ensureOpen() {
  if (open_) return true;
  if (Steady::now() < nextOpen_) return false;
  Status st = sink_.open(host_);
  if (!st.isOk()) {
    noteFailure(st, "open");
    return false;
  }
  open_ = true;
  backoff_ = opts_.backoffInitial;
  lastLogged_.clear();
  spdlog::info("sink connected; forwarding as host '{}'", host_.hostId);
  std::lock_guard lock(statsMu_);
  stats_.connected = true;
  stats_.detail.clear();
  return true;
}

bool Forwarder::forwardDeployment(const Deployment& stored, Steady::time_point deadline) {
  Progress& p = progress_[stored.id];
  if (!p.known) {
    auto pos = sink_.position(stored.id);
    if (!pos.isOk()) {
      noteFailure(pos.status(), "position");
      return false;
    }
    p.position = *pos;
    p.known = true;
    p.sentRow.reset();
  }
  Deployment row = stored;
  row.host = host_.hostId;
  do {
    plugin::SinkBatch batch;
    batch.deploymentId = row.id;
    if (!p.sentRow || !(*p.sentRow == row)) batch.row = row;
    auto page = storage_.readLogs(row.id, p.position.lastLineNo, opts_.batchLines);
    if (page.isOk()) batch.lines = std::move(page->lines);
    if (!batch.lines.empty() && batch.lines.front().lineNo > p.position.lastLineNo + 1) {
      // Local retention deleted lines the sink never got (it was away longer than the TTL): say
      // so in their place, numbered as the last of them, so the destination shows the gap.
      const LogLine& first = batch.lines.front();
      const uint64_t missing = first.lineNo - p.position.lastLineNo - 1;
      LogLine gap{row.id, first.lineNo - 1, LogStream::kSystem, first.ts,
                  "[GAP] " + std::to_string(missing) + " lines expired before they were forwarded",
                  false};
      batch.lines.insert(batch.lines.begin(), std::move(gap));
      spdlog::warn("forwarder: deployment {}: {} lines expired before they were forwarded",
                   row.id, missing);
    }
    auto samples = storage_.readMetrics(row.id, p.position.lastSampledAt + 1,
                                        clock_.now() + kSampleHorizonNs);
    if (samples.isOk()) {
      batch.samples = std::move(samples).value();
      if (batch.samples.size() > opts_.batchSamples) batch.samples.resize(opts_.batchSamples);
    }
    if (!batch.row && batch.lines.empty() && batch.samples.empty()) return true;
    Status st = sink_.write(batch);
    if (!st.isOk()) {
      if (st.code() == Status::Code::kUnavailable) {
        noteFailure(st, "write");
        return false;
      }
      // A batch the sink refuses for what it holds would be refused again: say so and go on
      // with the other deployments; the next pass tries again from the sink's position.
      // Logged once per new reason: the next passes retry it without flooding the log.
      std::string line = "write for deployment " + row.id + " refused: " + st.toString();
      if (line != lastRefusal_) spdlog::error("sink: {}", line);
      lastRefusal_ = std::move(line);
      p.known = false;
      std::lock_guard lock(statsMu_);
      ++stats_.failures;
      return true;
    }
    if (batch.row) p.sentRow = row;
    if (!batch.lines.empty()) p.position.lastLineNo = batch.lines.back().lineNo;
    if (!batch.samples.empty()) p.position.lastSampledAt = batch.samples.back().sampledAt;
    std::lock_guard lock(statsMu_);
    stats_.linesForwarded += batch.lines.size();
    stats_.samplesForwarded += batch.samples.size();
    ++stats_.batchesForwarded;
    if (batch.lines.size() < opts_.batchLines && batch.samples.size() < opts_.batchSamples) {
      return true;
    }
  } while (Steady::now() < deadline && !(task_ && task_->stopping()));
  return true;
}

void Forwarder::measureLag(const std::vector<Deployment>& rows) {
  uint64_t lines = 0;
  TimeNs oldest = 0;
  std::map<std::string, uint64_t, std::less<>> ackedNow;
  for (const Deployment& d : rows) {
    auto it = progress_.find(d.id);
    uint64_t acked = it == progress_.end() ? 0 : it->second.position.lastLineNo;
    ackedNow.emplace(d.id, acked);
    auto page = storage_.readLogs(d.id, acked, 1);
    if (!page.isOk() || page->lines.empty()) continue;
    lines += page->nextLineNo - page->lines.front().lineNo;
    TimeNs ts = page->lines.front().ts;
    if (ts > 0 && (oldest == 0 || ts < oldest)) oldest = ts;
  }
  double seconds = oldest == 0 ? 0 : std::max<double>(0, double(clock_.now() - oldest) / kNanosPerSecond);
  std::lock_guard lock(statsMu_);
  stats_.lagLines = lines;
  stats_.lagSeconds = seconds;
  acked_ = std::move(ackedNow);
}

uint64_t Forwarder::acknowledgedLineNo(std::string_view id) const {
  std::lock_guard lock(statsMu_);
  auto it = acked_.find(id);
  return it == acked_.end() ? 0 : it->second;
}

void Forwarder::wake() noexcept {
  try {
    if (task_) task_->wake();
  } catch (const std::exception&) {
    /* the next interval forwards them anyway */
  }
}

void Forwarder::runPass() {
  auto rows = storage_.listDeployments();
  if (!rows.isOk()) {
    spdlog::warn("forwarder: cannot list deployments: {}", rows.status().toString());
    return;
  }
  // Forget deployments storage no longer has (forgotten after retention).
  for (auto it = progress_.begin(); it != progress_.end();) {
    bool present = std::any_of(rows->begin(), rows->end(),
                               [&](const Deployment& d) { return d.id == it->first; });
    it = present ? std::next(it) : progress_.erase(it);
  }
  const uint64_t batchesBefore = stats().batchesForwarded;
  if (ensureOpen()) {
    const auto deadline = Steady::now() + opts_.passBudget;
    for (const Deployment& d : *rows) {
      if (!forwardDeployment(d, deadline)) break;
      if (task_ && task_->stopping()) break;
    }
  }
  if (open_) takeStops();
  measureLag(*rows);
  // Work left after a pass that made progress (a budget cut it short): run again at once
  // instead of after the interval. A pass without progress waits, so a refused batch never spins.
  if (open_ && task_) {
    ForwardStats now = stats();
    if (now.lagLines > 0 && now.batchesForwarded != batchesBefore) task_->wake();
  }
}

void Forwarder::takeStops() {
  if (!onStop_ || Steady::now() < nextStopCheck_) return;
  nextStopCheck_ = Steady::now() + std::chrono::milliseconds(900);
  auto pending = sink_.pendingStops();
  if (!pending.isOk()) {
    noteFailure(pending.status(), "pending stops");
    return;
  }
  for (const plugin::SinkStopRequest& r : *pending) {
    Status st = onStop_(r.deploymentId);
    if (st.code() == Status::Code::kNotFound) {
      spdlog::warn("forwarder: stop of {} recorded centrally, but this host does not know it",
                   r.deploymentId);
    } else if (!st.isOk()) {
      spdlog::warn("forwarder: central stop of {}: {}", r.deploymentId, st.toString());
      continue;  // asked again next time
    }
    Status taken = sink_.stopTaken(r);
    if (!taken.isOk()) {
      noteFailure(taken, "stop taken");
      return;
    }
  }
}

}  // namespace zc::collector
