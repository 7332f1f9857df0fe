// batchGet: many short GET requests to one Unix socket at once, from the calling thread.
//
// Each request gets its own connection (the engine answers one request per connection here);
// at most `maxInFlight` are open together, the rest start as earlier ones finish. One poll()
// waits on all of them; each response is parsed by HttpResponseReader (http_stream.h). Made for
// endpoints the engine answers at a collection tick (one-shot stats): requests in flight
// together are answered by the same tick, so N requests take about one tick, not N.
//
// Thread-safety: a free function without shared state; call it from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "engine_client.h"  // HttpResult
#include "zc/status.h"

namespace zc::docker {

struct BatchGetOptions {
  size_t maxInFlight = 256;      // connections open at once (>= 1; 0 counts as 1)
  size_t maxBodyBytes = 4 << 20;  // a longer body is that request's Corruption
  // Every request must be answered by then: one still unanswered (or not yet started) gets
  // Timeout and its connection is closed.
  std::chrono::steady_clock::time_point deadline;
};

// Sends "GET targets[i]" to `socketPath` for every i; result i is the status and whole body of
// the answer to targets[i] (any HTTP status), or Unavailable (cannot connect, connection broke),
// Timeout (the deadline), Corruption (malformed response). One request's failure never affects
// another's. Never throws.
std::vector<Result<HttpResult>> batchGet(const std::string& socketPath,
                                         const std::vector<std::string>& targets,
                                         const BatchGetOptions& options) noexcept;

}  // namespace zc::docker
