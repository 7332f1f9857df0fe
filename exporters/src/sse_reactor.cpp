#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sse_backfill.h"
#include "sse_format.h"
#include "sse_hub_impl.h"

namespace zc::exporters {
namespace {

constexpr size_t kKeepCapacityBytes = 16384;  // an idle stream's buffer shrinks below this
constexpr int kMaxRoundsPerWake = 8;          // fairness: rounds of fill+flush before yielding

}  // namespace

void SseShard::wakeLocked() noexcept {
  if (!wakePending) {
    wakePending = true;
    uint64_t one = 1;
    (void)!::write(wakefd, &one, sizeof one);
  }
}

void SseShard::schedule(uint64_t token) noexcept {
  std::lock_guard lock(mu);
  try {
    ready.push_back(token);
  } catch (const std::exception&) {
    return;  // the stream's heartbeat tick will pick the work up
  }
  wakeLocked();
}

const std::vector<std::string>& SseShard::formattedEvents(const host::LineBatch& batch) {
  if (formatted.size() >= sweepFormattedAt) sweepFormatted();
  FormattedBatch& f = formatted[batch.get()];  // references survive rehashing
  if (f.batch.expired()) {  // new, or an address reused after its batch was freed
    f.batch = batch;
    f.events.clear();
    f.events.reserve(batch->size());
    for (const LogLine& l : *batch) f.events.push_back(sseLogEvent(l));
  }
  return f.events;
}

void SseShard::sweepFormatted() {
  std::erase_if(formatted, [](const auto& entry) { return entry.second.batch.expired(); });
  sweepFormattedAt = std::max(kMinSweep, 2 * formatted.size());
}

void SseShard::setWantWrite(SseStream& s, bool want) {
  if (s.wantWrite == want) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
  ev.data.u64 = s.token;
  ::epoll_ctl(epfd, EPOLL_CTL_MOD, s.fd, &ev);
  s.wantWrite = want;
}

void SseShard::close(SseStream& s) {
  if (s.closed) return;
  s.closed = true;
  ::epoll_ctl(epfd, EPOLL_CTL_DEL, s.fd, nullptr);
  s.io.reset();  // closes
  hub.release(s);
}

void SseHub::Impl::release(SseStream& s) noexcept {
  if (s.sub != 0) api.bus().unsubscribe(s.sub);  // waits for a running callback to return
  s.sub = 0;
  s.current.reset();
  open.fetch_sub(1);
  releaseClient(s.client);
  reserved.fetch_sub(1);
}

void SseShard::admit(std::unique_ptr<SseStream> s) {
  int fl = ::fcntl(s->fd, F_GETFL, 0);
  ::fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
  if (opts.sendBufferBytes > 0) {
    ::setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &opts.sendBufferBytes, sizeof opts.sendBufferBytes);
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = s->token;
  if (::epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
    spdlog::warn("sse: epoll_ctl: {}", std::strerror(errno));
    s->io.reset();
    hub.release(*s);
    return;
  }
  s->lastTeardownCheck = Clock::now();
  s->append(sseResponseHead());
  s->append(sseRetry(opts.retryMs));
  s->appendStatus(s->status);
  uint64_t token = s->token;
  SseStream& ref = *s;
  streams.emplace(token, std::move(s));
  pump(ref);
}

bool SseShard::fillCurrent(SseStream& s) {
  const auto& lines = *s.current;
  // Stays valid through the loop: s.current keeps the batch, so its entry is never swept.
  const std::vector<std::string>& events = formattedEvents(s.current);
  while (s.currentPos < lines.size() && s.buffered() < opts.highWaterBytes) {
    const LogLine& l = lines[s.currentPos];
    if (l.lineNo <= s.lastSent) {
      hub.overlapSkipped.fetch_add(1, std::memory_order_relaxed);
      ++s.currentPos;
      continue;
    }
    if (l.lineNo > s.lastSent + 1) {
      if (!fillGap(api, s, l.lineNo, opts.backfillChunk)) {
        close(s);
        return false;
      }
      continue;
    }
    s.appendLogEvent(events[s.currentPos], l.lineNo);
    ++s.currentPos;
  }
  if (s.currentPos == lines.size()) s.current.reset();
  return true;
}

SseShard::Fill SseShard::fill(SseStream& s) {
  while (s.buffered() < opts.highWaterBytes) {
    if (s.endWritten) return Fill::kIdle;
    if (s.catchingUp) {
      if (!backfillPage(api, s, opts.backfillChunk)) {
        close(s);
        return Fill::kClosed;
      }
      continue;
    }
    if (!s.current) {
      InboxItem item;
      Inbox::Pop got = s.inbox->pop(item);
      if (got == Inbox::Pop::kOverflow) {
        hub.droppedSlow.fetch_add(1);
        close(s);
        return Fill::kClosed;
      }
      if (got == Inbox::Pop::kEmpty) break;
      if (item.kind == InboxItemKind::kStatus) {
        s.appendStatus(item.status);
        continue;
      }
      if (item.kind == InboxItemKind::kEnd) {
        s.endQueued = true;
        continue;
      }
      s.current = std::move(item.batch);
      s.currentPos = 0;
    }
    if (!fillCurrent(s)) return Fill::kClosed;
  }
  if (s.buffered() >= opts.highWaterBytes) return Fill::kFull;
  // Here the inbox was found empty and nothing is being formatted.
  if (s.endQueued && !s.endWritten) {
    s.append(kSseEndEvent);
    s.endWritten = true;
  }
  return Fill::kIdle;
}

bool SseShard::flush(SseStream& s) {
  s.closeRun();
  while (s.outOff < s.out.size()) {
    // A TLS retry offers the same bytes again: they stay at outOff (the buffer may move when
    // compacted and may grow at its end, both allowed by the TLS transport's write modes).
    IoResult r = s.io->write(s.out.data() + s.outOff, s.out.size() - s.outOff);
    if (r.kind == IoResult::Kind::kDone && r.bytes > 0) {
      s.outOff += r.bytes;
      s.lastProgress = Clock::now();
      continue;
    }
    if (r.kind == IoResult::Kind::kWantWrite || r.kind == IoResult::Kind::kWantRead) {
      if (s.outOff > s.out.size() / 2) {
        s.out.erase(0, s.outOff);
        s.outOff = 0;
      }
      setWantWrite(s, true);
      return true;
    }
    close(s);
    return false;
  }
  s.out.clear();
  s.outOff = 0;
  if (s.out.capacity() > kKeepCapacityBytes) std::string().swap(s.out);
  setWantWrite(s, false);
  if (s.endWritten) {
    hub.ended.fetch_add(1);
    s.io->shutdownWrite();
    close(s);
    return false;
  }
  return true;
}

void SseShard::pump(SseStream& s) {
  if (s.closed) return;
  if (s.inbox->overflowed()) {
    hub.droppedSlow.fetch_add(1);
    close(s);
    return;
  }
  for (int round = 0; round < kMaxRoundsPerWake; ++round) {
    Fill f = fill(s);
    if (f == Fill::kClosed) return;
    if (!flush(s)) return;
    if (f == Fill::kIdle || s.outOff < s.out.size()) return;
  }
  again.push_back(s.token);
}

void SseShard::tick(Clock::time_point now) {
  sweepFormatted();  // also when no stream formats: nothing outlives its batch by more than a tick
  auto heartbeat = std::chrono::milliseconds(opts.heartbeatMs);
  auto stall = std::chrono::milliseconds(opts.stallTimeoutMs);
  auto teardownPoll = std::chrono::milliseconds(opts.teardownPollMs);
  for (auto& [token, sp] : streams) {
    SseStream& s = *sp;
    if (s.closed) continue;
    if (s.outOff < s.out.size() && now - s.lastProgress >= stall) {
      hub.droppedStalled.fetch_add(1);
      close(s);
      continue;
    }
    bool work = false;
    if (s.status == DeploymentStatus::kStopped && !s.endQueued &&
        now - s.lastTeardownCheck >= teardownPoll) {
      s.lastTeardownCheck = now;
      if (api.teardownComplete(s.id)) {
        s.endQueued = true;
        work = true;
      }
    }
    if (s.outOff == s.out.size() && now - s.lastQueued >= heartbeat) {
      s.append(kSseHeartbeat);
      work = true;
    }
    if (work) pump(s);
  }
}

void SseShard::readInput(SseStream& s, uint32_t e) {
  if (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
    close(s);
    return;
  }
  if (e & EPOLLIN) {
    // Clients send nothing after the request; read and drop whatever comes (through TLS, so
    // that a close_notify is noticed), notice EOF.
    char buf[1024];
    IoResult r;
    while ((r = s.io->read(buf, sizeof buf)).kind == IoResult::Kind::kDone) {
    }
    if (r.kind != IoResult::Kind::kWantRead && r.kind != IoResult::Kind::kWantWrite) close(s);
  }
}

void SseShard::loop() {
  std::vector<epoll_event> events(256);
  auto tickEvery = std::chrono::milliseconds(std::clamp(opts.heartbeatMs / 4, 10, 1000));
  auto nextTick = Clock::now() + tickEvery;
  for (;;) {
    auto untilTick =
        std::chrono::duration_cast<std::chrono::milliseconds>(nextTick - Clock::now()).count();
    int timeout = again.empty() ? static_cast<int>(std::max<int64_t>(0, untilTick)) : 0;
    int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("sse: epoll_wait: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::vector<uint64_t> readyNow;
    std::vector<std::unique_ptr<SseStream>> admitted;
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      readyNow.swap(ready);
      admitted.swap(incoming);
      if (wakePending) {
        uint64_t v;
        (void)!::read(wakefd, &v, sizeof v);
        wakePending = false;
      }
    }
    for (auto& s : admitted) admit(std::move(s));
    for (int i = 0; i < n; ++i) {
      uint64_t token = events[i].data.u64;
      if (token == kWakeToken) continue;
      auto it = streams.find(token);
      if (it == streams.end() || it->second->closed) continue;
      SseStream& s = *it->second;
      readInput(s, events[i].events);
      // EPOLLIN also resumes a TLS write that waited for the socket to be readable.
      if (!s.closed && ((events[i].events & EPOLLOUT) ||
                        ((events[i].events & EPOLLIN) && s.buffered() > 0 && s.wantWrite))) {
        pump(s);
      }
    }
    std::vector<uint64_t> retry;
    retry.swap(again);
    readyNow.insert(readyNow.end(), retry.begin(), retry.end());
    for (uint64_t token : readyNow) {
      auto it = streams.find(token);
      if (it != streams.end()) pump(*it->second);
    }
    auto now = Clock::now();
    if (now >= nextTick) {
      tick(now);
      nextTick = now + tickEvery;
    }
    for (auto it = streams.begin(); it != streams.end();) {
      it = it->second->closed ? streams.erase(it) : std::next(it);
    }
  }
}

}  // namespace zc::exporters
