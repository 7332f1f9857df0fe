// bench_tls: what TLS costs the collector's HTTP server, each figure next to plain HTTP measured
// in the same run on the same data:
//   - a 500-line page (GET /api/deployments/<id>/logs?limit=500): latency on one kept-alive
//     connection, and with a new connection (and so a new TLS handshake) per request;
//   - SSE: N clients on one deployment fed `rate` lines/s; latency from the line's commit to
//     the event parsed by the client (the line carries its CLOCK_MONOTONIC publish time).
// Server and clients run in this process (a plain and a TLS server over the same fake collector);
// the SSE clients are read by ONE epoll thread. Certificates are made with the `openssl` CLI in a
// temporary folder. Loopback only; bounded in clients (<= 2000) and time (<= 60 s per stream run).
//
//   bench_tls [--clients 1000] [--seconds 10] [--rate 100] [--requests 500]
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fake_collector_api.h"
#include "http_test_client.h"
#include "report.h"
#include "test_support.h"
#include "tls_test_client.h"
#include "zc/exporters/exporters.h"

namespace {

using Clock = std::chrono::steady_clock;

int64_t monoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// One client connection, plain (ssl == nullptr) or TLS; blocking until makeNonBlocking().
struct ClientConn {
  int fd = -1;
  SSL* ssl = nullptr;
  std::string buf;
  ~ClientConn() { close(); }
  void close() {
    if (ssl) SSL_free(ssl);
    ssl = nullptr;
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  bool open(uint16_t port, SSL_CTX* ctx) {
    fd = zc::testing::connectLoopback(port);
    if (fd < 0) return false;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // As browsers and curl do: no Nagle delay between the handshake's last flight and the request.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (ctx == nullptr) return true;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    return SSL_connect(ssl) == 1;
  }
  bool send(const std::string& s) {
    if (ssl) return SSL_write(ssl, s.data(), static_cast<int>(s.size())) > 0;
    return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // > 0 bytes, 0 closed, -1 would block / error (see errno-free handling by the callers).
  int recv(char* out, int len) {
    if (ssl) {
      int n = SSL_read(ssl, out, len);
      if (n > 0) return n;
      int e = SSL_get_error(ssl, n);
      ERR_clear_error();
      return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    ssize_t n = ::recv(fd, out, static_cast<size_t>(len), 0);
    return n > 0 ? static_cast<int>(n) : (n == 0 ? 0 : -1);
  }
  // One response with a Content-Length body; false on error.
  bool readResponse() {
    char tmp[65536];
    for (;;) {
      size_t head = buf.find("\r\n\r\n");
      if (head != std::string::npos) {
        size_t cl = buf.find("Content-Length: ");
        if (cl != std::string::npos && cl < head) {
          size_t len = std::stoul(buf.substr(cl + 16));
          if (buf.size() >= head + 4 + len) {
            bool ok = buf.compare(0, 12, "HTTP/1.1 200") == 0;
            buf.erase(0, head + 4 + len);
            return ok;
          }
        }
      }
      int n = recv(tmp, sizeof tmp);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
};

struct Stack {
  std::unique_ptr<zc::exporters::HttpServer> server;
  std::unique_ptr<zc::exporters::Exporters> exp;
};

Stack startServer(zc::testing::FakeCollectorApi& api, const zc::exporters::TlsFiles& tls,
                  size_t clients) {
  zc::exporters::HttpServerOptions http;
  http.port = 0;
  http.maxConnectionsPerPeer = 0;  // every client is 127.0.0.1 and stands for another peer
  http.maxQueued = static_cast<int>(clients) + 64;
  http.tls = tls;
  Stack s;
  s.server = std::make_unique<zc::exporters::HttpServer>(http);
  zc::exporters::ExporterOptions opts;
  opts.sse.maxClients = clients + 16;
  auto ex = zc::exporters::registerExporters(*s.server, api, opts);
  if (!ex.isOk() || !s.server->start().isOk()) return Stack{};
  s.exp = std::move(ex).value();
  return s;
}

// Latencies of `requests` page requests: on one kept-alive connection, or a new one each.
bool pageLatencies(uint16_t port, SSL_CTX* ctx, int requests, bool keepAlive,
                   std::vector<double>& ms) {
  const std::string req =
      "GET /api/deployments/bench/logs?since=0&limit=500 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ClientConn kept;
  for (int i = 0; i < requests; ++i) {
    // The server closes a kept-alive connection after maxKeepAliveRequests (100): a new one,
    // not timed, every 99 timed requests.
    // Its first request, not timed either: what a connection costs once (over TLS the
    // session tickets the client reads with its first response) is the other scenario's.
    if (keepAlive && i % 99 == 0) {
      kept.close();
      kept.buf.clear();
      if (!kept.open(port, ctx) || !kept.send(req) || !kept.readResponse()) return false;
    }
    auto t0 = Clock::now();
    ClientConn fresh;
    ClientConn& c = keepAlive ? kept : fresh;
    if (!keepAlive && !c.open(port, ctx)) return false;
    if (!c.send(req) || !c.readResponse()) return false;
    ms.push_back(msSince(t0));
  }
  return true;
}

// SSE: `clients` streams, `rate` lines/s for `seconds`; every (client, line) latency in ms.
bool sseLatencies(zc::testing::FakeCollectorApi& api, uint16_t port, SSL_CTX* ctx, int clients,
                  int seconds, int rate, std::vector<double>& ms, std::string& why) {
  auto next = api.storage().nextLineNo("bench");
  uint64_t start = next.isOk() ? *next - 1 : 0;
  const std::string req = "GET /api/deployments/bench/logs/stream?since=" + std::to_string(start) +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  std::vector<std::unique_ptr<ClientConn>> cs;
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < clients; ++i) {
    auto c = std::make_unique<ClientConn>();
    if (!c->open(port, ctx) || !c->send(req)) {
      why = "client " + std::to_string(i) + " could not connect";
      ::close(ep);
      return false;
    }
    ::fcntl(c->fd, F_SETFL, ::fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(i);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    cs.push_back(std::move(c));
  }
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    std::vector<epoll_event> evs(512);
    char tmp[65536];
    while (!stop) {
      int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 50);
      int64_t now = monoNs();
      for (int i = 0; i < n; ++i) {
        ClientConn& c = *cs[evs[i].data.u64];
        int r;
        while ((r = c.recv(tmp, sizeof tmp)) > 0) c.buf.append(tmp, static_cast<size_t>(r));
        // Every complete line carrying "t=<ns>" is one delivered log line.
        size_t pos = 0, eol;
        while ((eol = c.buf.find('\n', pos)) != std::string::npos) {
          size_t t = c.buf.find("t=", pos);
          if (t != std::string::npos && t < eol && c.buf.compare(pos, 5, "data:") == 0) {
            int64_t sent = std::strtoll(c.buf.c_str() + t + 2, nullptr, 10);
            if (sent > 0) ms.push_back(static_cast<double>(now - sent) / 1e6);
          }
          pos = eol + 1;
        }
        c.buf.erase(0, pos);
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // every stream caught up
  const int perTick = std::max(1, rate / 100);
  const std::string pad(60, 'x');
  auto t0 = Clock::now();
  auto tick = t0;
  while (Clock::now() - t0 < std::chrono::seconds(seconds)) {
    tick += std::chrono::milliseconds(10);
    api.appendGenerated("bench", static_cast<size_t>(perTick), [&](size_t, uint64_t) {
      return "t=" + std::to_string(monoNs()) + " " + pad;
    });
    std::this_thread::sleep_until(tick);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last lines arrive
  stop = true;
  reader.join();
  ::close(ep);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  zc::bench::Report report(argc, argv);
  int clients = report.smoke() ? 20 : 1000;
  int seconds = report.smoke() ? 1 : 10;
  int rate = 100;
  int requests = report.smoke() ? 20 : 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--clients") clients = std::clamp(v, 1, 2000);
    if (k == "--seconds") seconds = std::clamp(v, 1, 60);
    if (k == "--rate") rate = std::clamp(v, 1, 10000);
    if (k == "--requests") requests = std::clamp(v, 1, 100000);
  }
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::signal(SIGPIPE, SIG_IGN);

  zc::testing::TempDir dir;
  zc::testing::TestPki pki;
  std::string error;
  if (!zc::testing::makeTestPki(dir.path(), pki, &error)) {
    report.fail("tls", "certificates", error);
    return 1;
  }
  zc::testing::FakeCollectorApi api;
  api.addDeployment("bench");
  for (int i = 0; i < 20; ++i) api.appendNumbered("bench", 100);
  size_t cap = static_cast<size_t>(clients);
  Stack plain = startServer(api, {}, cap);
  Stack tls = startServer(api, {pki.serverCert, pki.serverKey, ""}, cap);
  if (!plain.server || !tls.server) {
    report.fail("tls", "servers", "could not start");
    return 1;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, pki.caCert.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);

  auto compare = [&](const std::string& scenario, std::vector<double>& t, std::vector<double>& p,
                     const std::string& note) {
    for (double q : {0.5, 0.99}) {
      zc::bench::Figure f;
      f.section = "tls";
      f.scenario = scenario;
      f.figure = q == 0.5 ? "p50" : "p99";
      f.unit = "ms";
      f.value = zc::bench::quantile(t, q);
      f.baseline = "plain HTTP";
      f.baselineValue = zc::bench::quantile(p, q);
      f.better = zc::bench::Better::kLower;
      f.note = q == 0.99 ? note : "";
      report.add(f);
    }
  };
  for (bool keepAlive : {true, false}) {
    std::vector<double> p, t;
    std::string scenario = std::string("500-line page, ") +
                           (keepAlive ? "kept-alive connection" : "new connection each");
    // Two rounds in opposite orders (plain, TLS, TLS, plain): neither side gets the warm-up
    // or the machine's quieter half alone.
    bool ok = true;
    for (int round = 0; round < 2 && ok; ++round) {
      for (bool tlsTurn : {round == 1, round == 0}) {
        ok = ok && (tlsTurn ? pageLatencies(tls.server->port(), ctx, requests / 2, keepAlive, t)
                            : pageLatencies(plain.server->port(), nullptr, requests / 2,
                                            keepAlive, p));
      }
    }
    if (!ok) {
      report.fail("tls", scenario, "a request failed");
      continue;
    }
    compare(scenario, t, p, keepAlive ? "goal: TLS p99 <= 1.3x plain" : "includes the handshake");
  }
  {
    std::vector<double> p, t;
    std::string why;
    std::string scenario = "SSE, " + zc::bench::withCommas(static_cast<uint64_t>(clients)) +
                           " clients, " + std::to_string(rate) + " lines/s";
    // Two rounds in opposite orders, as for the pages.
    const int half = std::max(1, seconds / 2);
    bool ok = true;
    for (int round = 0; round < 2 && ok; ++round) {
      for (bool tlsTurn : {round == 1, round == 0}) {
        ok = ok && (tlsTurn ? sseLatencies(api, tls.server->port(), ctx, clients, half, rate, t, why)
                            : sseLatencies(api, plain.server->port(), nullptr, clients, half, rate,
                                           p, why));
      }
    }
    if (!ok) {
      report.fail("tls", scenario, why);
    } else if (p.empty() || t.empty()) {
      report.fail("tls", scenario, "no line reached the clients");
    } else {
      compare(scenario, t, p, "commit -> event parsed; goal: TLS p99 <= 1.3x plain");
    }
  }
  SSL_CTX_free(ctx);
  plain.server->stop();
  tls.server->stop();
  return report.failures() == 0 ? 0 : 1;
}
