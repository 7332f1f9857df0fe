#include "zc/exporters/sse_hub.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sse_hub_impl.h"

namespace zc::exporters {

SseHub::Impl::Impl(host::CollectorApi& a, const SseOptions& o) : api(a), opts(o) {
  size_t n = std::max<size_t>(1, o.threads);
  for (size_t i = 0; i < n; ++i) shards.push_back(std::make_unique<SseShard>(*this));
}

SseHub::Impl::~Impl() = default;

SseHub::SseHub(host::CollectorApi& api, SseOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(api, options_)) {}

SseHub::~SseHub() {
  stop();
}

Status SseHub::start() {
  Impl& p = *impl_;
  std::lock_guard lock(p.lifeMu);
  if (p.running) return Status::failedPrecondition("SSE hub already started");
  for (auto& shard : p.shards) {
    Status st = shard->start();
    if (!st.isOk()) {
      for (auto& started : p.shards) started->stop();
      return st;
    }
  }
  p.running = true;
  return Status::ok();
}

void SseHub::stop() noexcept {
  Impl& p = *impl_;
  std::lock_guard lock(p.lifeMu);
  for (auto& shard : p.shards) shard->stop();
  p.running = false;
}

Status SseShard::start() {
  if (thread.joinable()) return Status::failedPrecondition("SSE hub already started");
  epfd = ::epoll_create1(EPOLL_CLOEXEC);
  wakefd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epfd < 0 || wakefd < 0) {
    Status st = Status::ioError(std::string("sse: ") + std::strerror(errno));
    stop();
    return st;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  ::epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
  {
    std::lock_guard lock(mu);
    accepting = true;
    stopping = false;
  }
  thread = std::thread([this] { loop(); });
  return Status::ok();
}

void SseShard::stop() noexcept {
  {
    std::lock_guard lock(mu);
    accepting = false;
    stopping = true;
  }
  if (wakefd >= 0) {
    uint64_t one = 1;
    (void)!::write(wakefd, &one, sizeof one);
  }
  if (thread.joinable()) thread.join();
  for (auto& [token, s] : streams) close(*s);
  streams.clear();
  formatted.clear();
  again.clear();
  std::vector<std::unique_ptr<SseStream>> pending;
  {
    std::lock_guard lock(mu);
    pending.swap(incoming);
    ready.clear();
    wakePending = false;
  }
  for (auto& s : pending) {
    s->io.reset();  // closes
    hub.release(*s);
  }
  if (epfd >= 0) ::close(epfd);
  if (wakefd >= 0) ::close(wakefd);
  epfd = wakefd = -1;
}

bool SseShard::add(std::unique_ptr<SseStream>& s) {
  std::lock_guard lock(mu);
  if (!accepting) return false;
  incoming.push_back(std::move(s));
  wakeLocked();
  return true;
}

SseReserve SseHub::tryReserve(const std::string& client) noexcept {
  Impl& p = *impl_;
  size_t cur = p.reserved.load();
  bool got = false;
  while (cur < options_.maxClients) {
    if (p.reserved.compare_exchange_weak(cur, cur + 1)) {
      got = true;
      break;
    }
  }
  if (!got) {
    p.rejected.fetch_add(1);
    return SseReserve::kHubFull;
  }
  try {
    std::lock_guard lock(p.clientsMu);
    size_t& n = p.perClient[client];
    if (n < options_.maxStreamsPerClient) {
      ++n;
      return SseReserve::kOk;
    }
  } catch (const std::exception&) {
    // Out of memory for the entry: refuse like a full client.
  }
  p.reserved.fetch_sub(1);
  p.rejected.fetch_add(1);
  return SseReserve::kClientFull;
}

void SseHub::Impl::releaseClient(const std::string& client) noexcept {
  std::lock_guard lock(clientsMu);
  auto it = perClient.find(client);
  if (it == perClient.end()) return;
  if (--it->second == 0) perClient.erase(it);
}

void SseHub::release(const std::string& client) noexcept {
  impl_->releaseClient(client);
  impl_->reserved.fetch_sub(1);
}

Status SseHub::addStream(std::unique_ptr<Transport> io, SseStreamRequest request) noexcept {
  Impl& p = *impl_;
  std::unique_ptr<SseStream> s;
  const std::string& deploymentId = request.deploymentId;
  try {
    s = std::make_unique<SseStream>();
    s->token = p.nextToken.fetch_add(1);
    SseShard& shard = *p.shards[p.nextShard.fetch_add(1) % p.shards.size()];
    s->fd = io->fd();
    s->io = std::move(io);
    s->id = request.deploymentId;
    s->lastSent = request.startAfter;
    s->status = request.status;
    s->batched = request.batched;
    s->client = std::move(request.client);
    s->inbox = std::make_shared<Inbox>(options_.maxPendingLines, options_.maxPendingBytes);
    p.open.fetch_add(1);
    // Subscribe FIRST: everything committed from here on reaches the inbox; the backfill that
    // runs later on the hub thread reads storage after this point (see the header).
    s->sub = p.api.bus().subscribe(deploymentId,
                                   std::make_shared<InboxSubscriber>(shard, s->token, s->inbox));
    if (p.api.teardownComplete(deploymentId)) s->endQueued = true;
    if (!shard.add(s)) {
      s->io.reset();
      p.release(*s);
      return Status::unavailable("the SSE hub is stopped");
    }
  } catch (const std::exception& e) {
    io.reset();
    if (s) {
      s->io.reset();
      p.release(*s);
    } else {
      release(request.client);
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

}  // namespace zc::exporters
