#include "zc/exporters/sse_hub.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "zc/exporters/api_json.h"
#include "zc/exporters/http_server.h"
#include "zc/exporters/query.h"

namespace zc::exporters {

using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kWakeToken = 0;
constexpr size_t kKeepCapacityBytes = 16384;  // an idle stream's buffer shrinks below this
constexpr int kMaxRoundsPerWake = 8;          // fairness: rounds of fill+flush before yielding

enum class ItemKind : uint8_t { kLines, kStatus, kEnd };

struct Item {
  ItemKind kind = ItemKind::kLines;
  host::LineBatch batch;
  DeploymentStatus status = DeploymentStatus::kRunning;
};

// What the bus delivers for one stream, shared by the publisher threads and the hub thread.
struct Inbox {
  std::mutex mu;
  std::vector<Item> items;  // consumed from `head`
  size_t head = 0;
  size_t pendingLines = 0;
  bool overflow = false;   // more than maxPendingLines: the stream is to be closed
  bool scheduled = false;  // the hub has been told and has not yet found the inbox empty
};

}  // namespace

struct SseHub::Impl {
  struct Stream {
    uint64_t token = 0;
    int fd = -1;
    std::string id;
    uint64_t lastSent = 0;
    bool catchingUp = true;
    std::shared_ptr<Inbox> inbox;
    host::LiveBus::SubscriptionId sub = 0;
    DeploymentStatus status = DeploymentStatus::kRunning;
    std::string out;
    size_t outOff = 0;
    bool wantWrite = false;
    host::LineBatch current;  // the batch being formatted
    size_t currentPos = 0;
    bool endQueued = false;
    bool endWritten = false;
    bool closed = false;
    SteadyClock::time_point lastQueued;
    SteadyClock::time_point lastProgress;
    SteadyClock::time_point lastTeardownCheck;
  };

  class Subscriber final : public host::LiveSubscriber {
   public:
    Subscriber(Impl* hub, uint64_t token, std::shared_ptr<Inbox> inbox)
        : hub_(hub), token_(token), inbox_(std::move(inbox)) {}
    void onLines(const host::LineBatch& batch) noexcept override {
      push(Item{ItemKind::kLines, batch, DeploymentStatus::kRunning}, batch->size());
    }
    void onStatus(DeploymentStatus status) noexcept override {
      push(Item{ItemKind::kStatus, nullptr, status}, 0);
    }
    void onEnd() noexcept override {
      push(Item{ItemKind::kEnd, nullptr, DeploymentStatus::kStopped}, 0);
    }

   private:
    void push(Item item, size_t lines) noexcept {
      bool wake = false;
      bool wakeAnyway = false;
      try {
        std::lock_guard lock(inbox_->mu);
        if (inbox_->overflow) return;
        if (lines > 0 && inbox_->pendingLines + lines > hub_->opts.maxPendingLines) {
          // Too far behind: drop what is queued (memory) and have the hub disconnect it.
          inbox_->overflow = true;
          inbox_->items.clear();
          inbox_->head = 0;
          inbox_->pendingLines = 0;
          wakeAnyway = true;  // the hub must close it even if it is not reading the inbox
        } else {
          inbox_->items.push_back(std::move(item));
          inbox_->pendingLines += lines;
        }
        wake = !inbox_->scheduled || wakeAnyway;
        inbox_->scheduled = true;
      } catch (const std::exception& e) {
        // Out of memory: losing the stream is the only safe option; the client resumes.
        std::lock_guard lock(inbox_->mu);
        inbox_->overflow = true;
        wake = true;
      }
      if (wake) hub_->schedule(token_);
    }

    Impl* hub_;
    uint64_t token_;
    std::shared_ptr<Inbox> inbox_;
  };

  Impl(host::CollectorApi& a, const SseOptions& o) : api(a), opts(o) {}

  host::CollectorApi& api;
  const SseOptions& opts;
  int epfd = -1;
  int wakefd = -1;
  std::thread thread;
  std::atomic<size_t> reserved{0};
  std::atomic<uint64_t> nextToken{1};
  std::atomic<uint64_t> open{0}, opened{0}, rejected{0}, droppedSlow{0}, droppedStalled{0},
      ended{0}, overlapSkipped{0};

  std::mutex mu;  // guards the fields below
  bool accepting = false;
  bool stopping = false;
  bool wakePending = false;
  std::vector<uint64_t> ready;
  std::vector<std::unique_ptr<Stream>> incoming;

  // Hub thread only.
  std::unordered_map<uint64_t, std::unique_ptr<Stream>> streams;
  // Live batches are shared by every stream of a deployment: each is formatted once, not once
  // per stream (1,000 streams of one deployment would otherwise format every line 1,000 times).
  struct FormattedBatch {
    host::LineBatch batch;  // keeps the pointer from being reused while cached
    std::vector<std::string> events;
  };
  std::array<FormattedBatch, 32> cache;
  size_t cacheNext = 0;
  std::vector<uint64_t> again;  // streams with work left after their rounds

  void schedule(uint64_t token) noexcept {
    std::lock_guard lock(mu);
    try {
      ready.push_back(token);
    } catch (const std::exception&) {
      return;  // the stream's heartbeat tick will pick the work up
    }
    if (!wakePending) {
      wakePending = true;
      uint64_t one = 1;
      (void)!::write(wakefd, &one, sizeof one);
    }
  }

  void loop();
  void admit(std::unique_ptr<Stream> s);
  void pump(Stream& s);
  enum class Fill { kIdle, kFull, kClosed };
  Fill fill(Stream& s);
  bool flush(Stream& s);
  bool fillGap(Stream& s, uint64_t upTo);
  void appendLine(Stream& s, const LogLine& line);
  const std::string& cachedEvent(const host::LineBatch& batch, size_t i);
  void appendStatus(Stream& s, DeploymentStatus status);
  void append(Stream& s, std::string_view text);
  void setWantWrite(Stream& s, bool want);
  void close(Stream& s);
  void tick(SteadyClock::time_point now);
  void release(Stream& s) noexcept;
};

void SseHub::Impl::append(Stream& s, std::string_view text) {
  if (s.outOff == s.out.size()) {
    s.out.clear();
    s.outOff = 0;
    s.lastProgress = SteadyClock::now();
  }
  s.out.append(text);
  s.lastQueued = SteadyClock::now();
}

namespace {

std::string formatLogEvent(const LogLine& line) {
  std::string ev = "event: log\nid: " + std::to_string(line.lineNo) + "\ndata: ";
  JsonWriter w;
  writeLogLine(w, line);
  ev += w.text();  // JsonWriter escapes every CR and LF: one `data:` line per event
  ev += "\n\n";
  return ev;
}

}  // namespace

void SseHub::Impl::appendLine(Stream& s, const LogLine& line) {
  append(s, formatLogEvent(line));
  s.lastSent = line.lineNo;
}

const std::string& SseHub::Impl::cachedEvent(const host::LineBatch& batch, size_t i) {
  for (auto& c : cache) {
    if (c.batch == batch) return c.events[i];
  }
  FormattedBatch& slot = cache[cacheNext];
  cacheNext = (cacheNext + 1) % cache.size();
  slot.batch = batch;
  slot.events.clear();
  slot.events.reserve(batch->size());
  for (const LogLine& l : *batch) slot.events.push_back(formatLogEvent(l));
  return slot.events[i];
}

void SseHub::Impl::appendStatus(Stream& s, DeploymentStatus status) {
  s.status = status;
  JsonWriter w;
  w.beginObject().key("status").string(toString(status)).endObject();
  append(s, "event: status\ndata: " + w.text() + "\n\n");
}

void SseHub::Impl::setWantWrite(Stream& s, bool want) {
  if (s.wantWrite == want) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
  ev.data.u64 = s.token;
  ::epoll_ctl(epfd, EPOLL_CTL_MOD, s.fd, &ev);
  s.wantWrite = want;
}

void SseHub::Impl::close(Stream& s) {
  if (s.closed) return;
  s.closed = true;
  ::epoll_ctl(epfd, EPOLL_CTL_DEL, s.fd, nullptr);
  ::close(s.fd);
  release(s);
}

void SseHub::Impl::release(Stream& s) noexcept {
  if (s.sub != 0) api.bus().unsubscribe(s.sub);  // waits for a running callback to return
  s.sub = 0;
  s.current.reset();
  open.fetch_sub(1);
  reserved.fetch_sub(1);
}

void SseHub::Impl::admit(std::unique_ptr<Stream> s) {
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
    ::close(s->fd);
    release(*s);
    return;
  }
  auto now = SteadyClock::now();
  s->lastTeardownCheck = now;
  append(*s,
         "HTTP/1.1 200 OK\r\n"
         "Content-Type: text/event-stream\r\n"
         "Cache-Control: no-cache\r\n"
         "X-Accel-Buffering: no\r\n"
         "Connection: close\r\n"
         "Server: zynd-collector\r\n"
         "\r\n");
  append(*s, "retry: " + std::to_string(opts.retryMs) + "\n\n");
  appendStatus(*s, s->status);
  uint64_t token = s->token;
  Stream& ref = *s;
  streams.emplace(token, std::move(s));
  pump(ref);
}

bool SseHub::Impl::fillGap(Stream& s, uint64_t upTo) {
  while (s.lastSent + 1 < upTo) {
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(opts.backfillChunk, upTo - s.lastSent - 1));
    auto page = api.readLogs(s.id, s.lastSent, want);
    if (!page.isOk()) {
      if (page.status().isNotFound()) {
        s.endQueued = true;
        s.lastSent = upTo - 1;
        return true;
      }
      spdlog::warn("sse {}: reading the log gap: {}", s.id, page.status().toString());
      close(s);
      return false;
    }
    bool progressed = false;
    for (const LogLine& l : page->lines) {
      if (l.lineNo <= s.lastSent || l.lineNo >= upTo) continue;
      appendLine(s, l);
      progressed = true;
    }
    // Lines storage no longer has (retention) are simply absent.
    if (!progressed) s.lastSent = upTo - 1;
  }
  return true;
}

SseHub::Impl::Fill SseHub::Impl::fill(Stream& s) {
  while (s.out.size() - s.outOff < opts.highWaterBytes) {
    if (s.endWritten) return Fill::kIdle;
    if (s.catchingUp) {
      auto page = api.readLogs(s.id, s.lastSent, opts.backfillChunk);
      if (!page.isOk()) {
        if (page.status().isNotFound()) {
          // The deployment is gone: nothing more will come.
          s.catchingUp = false;
          s.endQueued = true;
          continue;
        }
        spdlog::warn("sse {}: backfill: {}", s.id, page.status().toString());
        close(s);
        return Fill::kClosed;
      }
      for (const LogLine& l : page->lines) {
        if (l.lineNo > s.lastSent) appendLine(s, l);
      }
      if (page->lines.size() < opts.backfillChunk) s.catchingUp = false;
      continue;
    }
    if (!s.current) {
      Item item;
      {
        std::lock_guard lock(s.inbox->mu);
        if (s.inbox->overflow) {
          droppedSlow.fetch_add(1);
          close(s);
          return Fill::kClosed;
        }
        if (s.inbox->head == s.inbox->items.size()) {
          s.inbox->items.clear();
          s.inbox->head = 0;
          s.inbox->scheduled = false;
          if (s.inbox->items.capacity() > 64) std::vector<Item>().swap(s.inbox->items);
          break;
        }
        item = std::move(s.inbox->items[s.inbox->head++]);
        if (item.kind == ItemKind::kLines) s.inbox->pendingLines -= item.batch->size();
      }
      if (item.kind == ItemKind::kStatus) {
        appendStatus(s, item.status);
        continue;
      }
      if (item.kind == ItemKind::kEnd) {
        s.endQueued = true;
        continue;
      }
      s.current = std::move(item.batch);
      s.currentPos = 0;
    }
    const auto& lines = *s.current;
    while (s.currentPos < lines.size() && s.out.size() - s.outOff < opts.highWaterBytes) {
      const LogLine& l = lines[s.currentPos];
      if (l.lineNo <= s.lastSent) {
        overlapSkipped.fetch_add(1, std::memory_order_relaxed);
        ++s.currentPos;
        continue;
      }
      if (l.lineNo > s.lastSent + 1) {
        if (!fillGap(s, l.lineNo)) return Fill::kClosed;
        continue;
      }
      append(s, cachedEvent(s.current, s.currentPos));
      s.lastSent = l.lineNo;
      ++s.currentPos;
    }
    if (s.currentPos == lines.size()) s.current.reset();
  }
  if (s.out.size() - s.outOff >= opts.highWaterBytes) return Fill::kFull;
  // Here the inbox was found empty and nothing is being formatted.
  if (s.endQueued && !s.endWritten) {
    append(s, "event: end\ndata: {}\n\n");
    s.endWritten = true;
  }
  return Fill::kIdle;
}

bool SseHub::Impl::flush(Stream& s) {
  while (s.outOff < s.out.size()) {
    ssize_t n =
        ::send(s.fd, s.out.data() + s.outOff, s.out.size() - s.outOff, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      s.outOff += static_cast<size_t>(n);
      s.lastProgress = SteadyClock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
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
    ended.fetch_add(1);
    ::shutdown(s.fd, SHUT_WR);
    close(s);
    return false;
  }
  return true;
}

void SseHub::Impl::pump(Stream& s) {
  if (s.closed) return;
  {
    std::lock_guard lock(s.inbox->mu);
    if (s.inbox->overflow) {
      droppedSlow.fetch_add(1);
      close(s);
      return;
    }
  }
  for (int round = 0; round < kMaxRoundsPerWake; ++round) {
    Fill f = fill(s);
    if (f == Fill::kClosed) return;
    if (!flush(s)) return;
    if (f == Fill::kIdle || s.outOff < s.out.size()) return;
  }
  again.push_back(s.token);
}

void SseHub::Impl::tick(SteadyClock::time_point now) {
  auto heartbeat = std::chrono::milliseconds(opts.heartbeatMs);
  auto stall = std::chrono::milliseconds(opts.stallTimeoutMs);
  auto teardownPoll = std::chrono::milliseconds(opts.teardownPollMs);
  for (auto& [token, sp] : streams) {
    Stream& s = *sp;
    if (s.closed) continue;
    if (s.outOff < s.out.size() && now - s.lastProgress >= stall) {
      droppedStalled.fetch_add(1);
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
      append(s, ": keep-alive\n\n");
      work = true;
    }
    if (work) pump(s);
  }
}

void SseHub::Impl::loop() {
  std::vector<epoll_event> events(256);
  auto tickEvery = std::chrono::milliseconds(std::clamp(opts.heartbeatMs / 4, 10, 1000));
  auto nextTick = SteadyClock::now() + tickEvery;
  for (;;) {
    int timeout = again.empty() ? static_cast<int>(std::max<int64_t>(
                                      0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                             nextTick - SteadyClock::now())
                                             .count()))
                                : 0;
    int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("sse: epoll_wait: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::vector<uint64_t> readyNow;
    std::vector<std::unique_ptr<Stream>> admitted;
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
      Stream& s = *it->second;
      uint32_t e = events[i].events;
      if (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        close(s);
        continue;
      }
      if (e & EPOLLIN) {
        // Clients send nothing after the request; read and drop whatever comes, notice EOF.
        char buf[1024];
        ssize_t r;
        while ((r = ::recv(s.fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        }
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          close(s);
          continue;
        }
      }
      if (e & EPOLLOUT) pump(s);
    }
    std::vector<uint64_t> retry;
    retry.swap(again);
    readyNow.insert(readyNow.end(), retry.begin(), retry.end());
    for (uint64_t token : readyNow) {
      auto it = streams.find(token);
      if (it != streams.end()) pump(*it->second);
    }
    auto now = SteadyClock::now();
    if (now >= nextTick) {
      tick(now);
      nextTick = now + tickEvery;
    }
    for (auto it = streams.begin(); it != streams.end();) {
      it = it->second->closed ? streams.erase(it) : std::next(it);
    }
  }
}

SseHub::SseHub(host::CollectorApi& api, SseOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(api, options_)) {}

SseHub::~SseHub() {
  stop();
}

Status SseHub::start() {
  Impl& p = *impl_;
  if (p.thread.joinable()) return Status::failedPrecondition("SSE hub already started");
  p.epfd = ::epoll_create1(EPOLL_CLOEXEC);
  p.wakefd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (p.epfd < 0 || p.wakefd < 0)
    return Status::ioError(std::string("sse: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  ::epoll_ctl(p.epfd, EPOLL_CTL_ADD, p.wakefd, &ev);
  {
    std::lock_guard lock(p.mu);
    p.accepting = true;
    p.stopping = false;
  }
  p.thread = std::thread([&p] { p.loop(); });
  return Status::ok();
}

void SseHub::stop() noexcept {
  Impl& p = *impl_;
  {
    std::lock_guard lock(p.mu);
    p.accepting = false;
    p.stopping = true;
  }
  if (p.wakefd >= 0) {
    uint64_t one = 1;
    (void)!::write(p.wakefd, &one, sizeof one);
  }
  if (p.thread.joinable()) p.thread.join();
  for (auto& [token, s] : p.streams) p.close(*s);
  p.streams.clear();
  for (auto& c : p.cache) c = Impl::FormattedBatch{};
  std::vector<std::unique_ptr<Impl::Stream>> pending;
  {
    std::lock_guard lock(p.mu);
    pending.swap(p.incoming);
    p.ready.clear();
  }
  for (auto& s : pending) {
    ::close(s->fd);
    p.release(*s);
  }
  if (p.epfd >= 0) ::close(p.epfd);
  if (p.wakefd >= 0) ::close(p.wakefd);
  p.epfd = p.wakefd = -1;
}

bool SseHub::tryReserve() noexcept {
  size_t cur = impl_->reserved.load();
  while (cur < options_.maxClients) {
    if (impl_->reserved.compare_exchange_weak(cur, cur + 1)) return true;
  }
  impl_->rejected.fetch_add(1);
  return false;
}

void SseHub::release() noexcept {
  impl_->reserved.fetch_sub(1);
}

Status SseHub::addStream(int fd, const std::string& deploymentId, uint64_t startAfter,
                         DeploymentStatus status) noexcept {
  Impl& p = *impl_;
  std::unique_ptr<Impl::Stream> s;
  try {
    s = std::make_unique<Impl::Stream>();
    s->token = p.nextToken.fetch_add(1);
    s->fd = fd;
    s->id = deploymentId;
    s->lastSent = startAfter;
    s->status = status;
    s->inbox = std::make_shared<Inbox>();
    p.open.fetch_add(1);
    // Subscribe FIRST: everything committed from here on reaches the inbox; the backfill that
    // runs later on the hub thread reads storage after this point (see the header).
    s->sub = p.api.bus().subscribe(deploymentId,
                                   std::make_shared<Impl::Subscriber>(&p, s->token, s->inbox));
    if (p.api.teardownComplete(deploymentId)) s->endQueued = true;
    std::lock_guard lock(p.mu);
    if (!p.accepting) {
      ::close(fd);
      p.release(*s);
      return Status::unavailable("the SSE hub is stopped");
    }
    p.incoming.push_back(std::move(s));
    if (!p.wakePending) {
      p.wakePending = true;
      uint64_t one = 1;
      (void)!::write(p.wakefd, &one, sizeof one);
    }
  } catch (const std::exception& e) {
    ::close(fd);
    if (s) {
      p.release(*s);
    } else {
      p.reserved.fetch_sub(1);
    }
    return Status::internal(std::string("sse: ") + e.what());
  }
  p.opened.fetch_add(1);
  return Status::ok();
}

SseStats SseHub::stats() const noexcept {
  SseStats st;
  st.clients = impl_->open.load();
  st.opened = impl_->opened.load();
  st.rejected = impl_->rejected.load();
  st.droppedSlow = impl_->droppedSlow.load();
  st.droppedStalled = impl_->droppedStalled.load();
  st.ended = impl_->ended.load();
  st.overlapSkipped = impl_->overlapSkipped.load();
  return st;
}

void registerSseRoute(HttpServer& server, host::CollectorApi& api, SseHub& hub) {
  server.route("GET", "/api/deployments/{id}/logs/stream",
               [&api, &hub](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp,
                            const PathParams& params) {
                 try {
                   const std::string& id = params.at("id");
                   if (Status st = validateDeploymentId(id); !st.isOk()) {
                     return sendError(resp, 400, "invalid_id", st.message());
                   }
                   auto query = parseStreamQuery(rawQueryOf(req.getURI()));
                   if (!query.isOk())
                     return sendError(resp, 400, "invalid_parameter", query.status().message());
                   std::optional<uint64_t> lastEventId;
                   if (req.has("Last-Event-ID")) {
                     auto v = parseLastEventId(req.get("Last-Event-ID"));
                     if (!v.isOk())
                       return sendError(resp, 400, "invalid_parameter", v.status().message());
                     lastEventId = *v;
                   }
                   auto row = api.getDeployment(id);
                   if (!row.isOk()) {
                     if (row.status().isNotFound())
                       return sendError(resp, 404, "not_found", "unknown deployment");
                     if (row.status().code() == Status::Code::kInvalidArgument) {
                       return sendError(resp, 400, "invalid_id", row.status().message());
                     }
                     spdlog::error("sse {}: {}", id, row.status().toString());
                     return sendError(resp, 500, "internal", "cannot read the deployment");
                   }
                   if (req.getMethod() == "HEAD") {
                     resp.setContentType("text/event-stream");
                     resp.set("Cache-Control", "no-cache");
                     resp.send();
                     return;
                   }
                   uint64_t start = 0;
                   if (lastEventId) {
                     start = *lastEventId;
                   } else if (query->since) {
                     start = *query->since;
                   } else {
                     auto page = api.readLogs(id, 0, 0);
                     if (!page.isOk()) {
                       spdlog::error("sse {}: {}", id, page.status().toString());
                       return sendError(resp, 500, "internal", "cannot read the log");
                     }
                     uint64_t last = page->nextLineNo - 1;
                     uint64_t n = hub.options().defaultBackfillLines;
                     start = last > n ? last - n : 0;
                   }
                   if (!hub.tryReserve()) {
                     resp.set("Retry-After", std::to_string(hub.options().retryAfterSeconds));
                     return sendError(resp, 503, "too_many_streams",
                                      "too many open log streams; retry later");
                   }
                   int fd = detachConnection(req);
                   if (fd < 0) {
                     hub.release();
                     return sendError(resp, 500, "internal", "cannot take over the connection");
                   }
                   Status st = hub.addStream(fd, id, start, row->status);
                   if (!st.isOk()) spdlog::warn("sse {}: {}", id, st.toString());
                 } catch (const std::exception& e) {
                   spdlog::error("sse: {}", e.what());
                   if (!resp.sent())
                     sendError(resp, 500, "internal", "the request failed inside the collector");
                 }
               });
}

}  // namespace zc::exporters
