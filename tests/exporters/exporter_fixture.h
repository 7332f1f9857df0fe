// A running exporter stack for tests: FakeCollectorApi + HttpServer on 127.0.0.1:0 with every
// exporter route registered.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "fake_collector_api.h"
#include "http_test_client.h"
#include "zc/exporters/exporters.h"

namespace zc::testing {

struct ExporterStack {
  explicit ExporterStack(exporters::ExporterOptions options = {},
                         exporters::HttpServerOptions http = {}) {
    api = std::make_unique<FakeCollectorApi>();
    http.host = "127.0.0.1";
    http.port = 0;
    server = std::make_unique<exporters::HttpServer>(http);
    auto ex = exporters::registerExporters(*server, *api, options);
    if (!ex.isOk()) throw std::runtime_error(ex.status().toString());
    exp = std::move(ex).value();
    Status st = server->start();
    if (!st.isOk()) throw std::runtime_error(st.toString());
  }
  ~ExporterStack() {
    server->stop();
    exp.reset();
  }
  uint16_t port() const { return server->port(); }

  std::unique_ptr<FakeCollectorApi> api;
  std::unique_ptr<exporters::HttpServer> server;
  std::unique_ptr<exporters::Exporters> exp;
};

}  // namespace zc::testing
