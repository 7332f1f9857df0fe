// The route table of the HTTP server: (method, pattern) pairs, a pattern being a path whose
// segments are literals or `{name}` parameters. dispatch() matches a request's raw path split
// on '/' (each parameter segment then percent-decoded, so %2F stays inside its segment), runs
// the first matching handler and answers itself what no handler answers: 400 bad_path for a
// malformed escape or a decoded NUL, 404 for an unknown path, 405 with Allow for a known path
// and another method (HEAD runs a GET handler), 500 when a handler throws or sends nothing.
//
// Each answered request is reported to the RequestObserver, if one is set, with its route
// pattern ("unmatched" when no route's path matches), method, status and duration.
//
// Thread-safety: add() before the server starts; dispatch() is then called concurrently by the
// workers over the frozen table.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "poco_adapters.h"
#include "zc/exporters/http_server.h"

namespace zc::exporters {

class Router {
 public:
  void add(const std::string& method, const std::string& pattern, Handler handler);
  // The table: (method, pattern) of each route, in the order added.
  std::vector<std::pair<std::string, std::string>> table() const;
  // Runs the request's route; fills `resp` unless the handler detached the connection. Never
  // throws.
  void dispatch(ServerRequest& req, ServerResponse& resp) const noexcept;
  // The checks run before dispatch() (HttpServer::setAccessControl); null when none.
  void setAccess(const AccessControl* access) noexcept { access_ = access; }
  const AccessControl* access() const noexcept { return access_; }
  void setObserver(RequestObserver* observer) noexcept { observer_ = observer; }
  // Counts a request the access checks refused before dispatch() (401/403/421/429), under the
  // pattern of the route its path names ("unmatched" when none).
  void observeRefused(const ServerRequest& req, const ServerResponse& resp) const noexcept;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  // Sets `route` to the pattern of the route whose path matched (any method) before running it.
  void dispatchRoute(ServerRequest& req, ServerResponse& resp,
                     const std::string*& route) const noexcept;
  void match(ServerRequest& req, ServerResponse& resp, const std::string*& route) const;
  // The pattern of the first route whose segments match the path (parameters match any segment).
  const std::string& patternOf(const std::string& uri) const;
  std::vector<Route> routes_;
  const AccessControl* access_ = nullptr;
  RequestObserver* observer_ = nullptr;
};

}  // namespace zc::exporters
