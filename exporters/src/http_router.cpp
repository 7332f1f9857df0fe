#include "http_router.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <string_view>

#include "zc/exporters/json_writer.h"
#include "zc/exporters/query.h"

namespace zc::exporters {
namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool isParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

const std::string kUnmatched = "unmatched";
const std::string kOtherMethod = "other";
const std::array<std::string, 7> kMethods = {"GET",   "HEAD",    "POST", "PUT",
                                             "DELETE", "OPTIONS", "PATCH"};

// A client may send any token as its method: the label takes a fixed set of values.
const std::string& methodLabel(const std::string& method) {
  for (const auto& m : kMethods) {
    if (m == method) return m;
  }
  return kOtherMethod;
}

}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back(Route{method, pattern, splitPath(pattern), std::move(handler)});
}

std::vector<std::pair<std::string, std::string>> Router::table() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

void Router::dispatch(ServerRequest& req, ServerResponse& resp) const noexcept {
  const auto started = std::chrono::steady_clock::now();
  const std::string* route = &kUnmatched;
  dispatchRoute(req, resp, route);
  if (observer_ != nullptr) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    observer_->observe(*route, methodLabel(req.getMethod()), static_cast<int>(resp.getStatus()),
                       seconds);
  }
}

void Router::observeRefused(const ServerRequest& req, const ServerResponse& resp) const noexcept {
  if (observer_ == nullptr) return;
  try {
    observer_->observe(patternOf(req.getURI()), methodLabel(req.getMethod()),
                       static_cast<int>(resp.getStatus()), 0.0);
  } catch (const std::exception&) {
    /* a metric is never worth failing the request */
  }
}

const std::string& Router::patternOf(const std::string& uri) const {
  std::vector<std::string> segs = splitPath(std::string_view(uri).substr(0, uri.find('?')));
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    bool match = true;
    for (size_t i = 0; i < segs.size() && match; ++i) {
      match = isParam(r.segments[i]) || r.segments[i] == segs[i];
    }
    if (match) return r.pattern;
  }
  return kUnmatched;
}

void Router::dispatchRoute(ServerRequest& req, ServerResponse& resp,
                           const std::string*& route) const noexcept {
  try {
    match(req, resp, route);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", req.getMethod(), sanitizeUtf8(req.getURI()), e.what());
    if (req.detached()) return;
    try {
      resp.reset();
      sendError(resp, 500, "internal", "the request failed inside the collector");
    } catch (const std::exception& e2) {
      spdlog::error("cannot build the error response: {}", e2.what());
    }
  }
}

void Router::match(ServerRequest& req, ServerResponse& resp, const std::string*& route) const {
  const std::string& uri = req.getURI();
  std::string_view rawPath = std::string_view(uri).substr(0, uri.find('?'));
  std::vector<std::string> segs = splitPath(rawPath);
  std::string allow;
  const std::string& method = req.getMethod();
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    PathParams params;
    bool match = true;
    for (size_t i = 0; i < segs.size() && match; ++i) {
      if (isParam(r.segments[i])) {
        auto decoded = percentDecode(segs[i]);
        if (!decoded.isOk()) {
          sendError(resp, 400, "bad_path", "path segment: " + decoded.status().message());
          return;
        }
        params[r.segments[i].substr(1, r.segments[i].size() - 2)] = std::move(decoded).value();
      } else if (r.segments[i] != segs[i]) {
        match = false;
      }
    }
    if (!match) continue;
    if (route == &kUnmatched) route = &r.pattern;
    if (r.method != method && !(r.method == "GET" && method == "HEAD")) {
      auto add = [&](const std::string& m) {
        if (allow.find(m) == std::string::npos) allow += (allow.empty() ? "" : ", ") + m;
      };
      add(r.method);
      if (r.method == "GET") add("HEAD");
      continue;
    }
    route = &r.pattern;
    r.handler(req, resp, params);
    if (!resp.sent() && !req.detached()) {
      spdlog::error("{} {}: handler sent no response", method, sanitizeUtf8(uri));
      sendError(resp, 500, "internal", "the handler sent no response");
    }
    return;
  }
  if (!allow.empty()) {
    resp.set("Allow", allow);
    sendError(resp, 405, "method_not_allowed",
              "method " + method + " is not allowed here; allowed: " + allow);
    return;
  }
  sendError(resp, 404, "not_found", "no such path");
}

}  // namespace zc::exporters
