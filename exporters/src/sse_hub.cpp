#include "zc/exporters/sse_hub.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sse_hub_impl.h"

namespace zc::exporters {

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
  if (p.epfd < 0 || p.wakefd < 0) {
    return Status::ioError(std::string("sse: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Impl::kWakeToken;
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
  p.formatted.clear();
  std::vector<std::unique_ptr<SseStream>> pending;
  {
    std::lock_guard lock(p.mu);
    pending.swap(p.incoming);
    p.ready.clear();
  }
  for (auto& s : pending) {
    s->io.reset();  // closes
    p.release(*s);
  }
  if (p.epfd >= 0) ::close(p.epfd);
  if (p.wakefd >= 0) ::close(p.wakefd);
  p.epfd = p.wakefd = -1;
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
                                   std::make_shared<InboxSubscriber>(p, s->token, s->inbox));
    if (p.api.teardownComplete(deploymentId)) s->endQueued = true;
    std::lock_guard lock(p.mu);
    if (!p.accepting) {
      s->io.reset();
      p.release(*s);
      return Status::unavailable("the SSE hub is stopped");
    }
    p.incoming.push_back(std::move(s));
    p.wakeLocked();
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
