// The HTTP server's worker pool: maxThreads threads, each serving one complete request at a
// time. A worker takes a connection from the ConnectionQueue, sends 100 Continue and reads the
// announced body when the client waits for it, runs the route (http_router.h) and writes the
// buffered response with writeResponseHead(); a kept-alive connection goes back to the reactor.
// A handler may take the connection away (detachConnection()); the worker then forgets it.
//
// Thread-safety: start() and join() from the thread that owns the server. Workers return once
// the queue is stopped (stop() also shuts the descriptors of active connections down, so a
// worker blocked on its socket wakes at once).
#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Net/HTTPServerParams.h>

#include <thread>
#include <vector>

#include "http_connection.h"
#include "http_router.h"
#include "zc/exporters/http_server.h"

namespace zc::exporters {

class WorkerPool {
 public:
  // OWNERSHIP: all three must outlive the pool.
  WorkerPool(const HttpServerOptions& options, ConnectionQueue& queue, const Router& router);
  ~WorkerPool();  // join()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Starts max(1, maxThreads) threads.
  void start();
  void join() noexcept;

 private:
  void loop();
  // Serves the request `c` holds; true to keep the connection for another request. On false
  // the connection has been closed or detached, or is to be closed by the caller.
  bool serveOne(Conn& c, ConnSlot& slot);
  // Reads the rest of an Expect: 100-continue body; false with the connection closed.
  bool receiveBody(Conn& c, ConnSlot& slot);
  bool closeSlot(ConnSlot& slot);

  const HttpServerOptions& opts_;
  ConnectionQueue& queue_;
  const Router& router_;
  Poco::AutoPtr<Poco::Net::HTTPServerParams> params_{new Poco::Net::HTTPServerParams};
  std::vector<std::thread> threads_;
};

}  // namespace zc::exporters
