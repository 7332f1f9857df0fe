// The HTTP server's worker pool: maxThreads threads, each serving one complete request at a
// time. A worker takes a connection whose request (head and body) the reactor has read, runs
// the route (http_router.h) and writes the buffered response (writeResponseHead()) as far as the
// socket takes it without waiting; the connection then goes back to the reactor, which writes
// the rest as the client reads and holds a kept-alive connection for its next request. A worker
// never waits on a client. A handler may take the connection away (detachConnection()); the
// worker then forgets it.
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
  // Serves the request `c` holds; true to give the connection back to the reactor (kept alive,
  // or with the rest of its response in c.out). On false the connection has been closed or
  // detached, or is to be closed by the caller.
  bool serveOne(Conn& c, ConnSlot& slot);
  // Writes what c.out holds and then the next pieces of a produced body, without waiting; ends
  // the response (close, or keep for the next request). True to give the connection back to
  // the reactor (kept alive, or with the rest in c.out).
  bool send(Conn& c, ConnSlot& slot);
  bool closeSlot(ConnSlot& slot);

  const HttpServerOptions& opts_;
  ConnectionQueue& queue_;
  const Router& router_;
  Poco::AutoPtr<Poco::Net::HTTPServerParams> params_{new Poco::Net::HTTPServerParams};
  std::vector<std::thread> threads_;
};

}  // namespace zc::exporters
