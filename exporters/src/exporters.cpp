#include "zc/exporters/exporters.h"

#include "routes.h"

namespace zc::exporters {

Exporters::Exporters(host::CollectorApi& api, const ExporterOptions& options)
    : options_(options), hub_(api, options.sse), prometheus_(api, &hub_) {}

Exporters::~Exporters() {
  stop();
}

void Exporters::stop() noexcept {
  hub_.stop();
}

Result<std::unique_ptr<Exporters>> registerExporters(HttpServer& server, host::CollectorApi& api,
                                                     const ExporterOptions& options) {
  std::unique_ptr<Exporters> ex;
  try {
    ex = std::make_unique<Exporters>(api, options);
  } catch (const std::exception& e) {
    return Status::internal(std::string("exporters: ") + e.what());
  }
  ZC_RETURN_IF_ERROR(ex->hub_.start());
  server.setAccessControl(options.access);
  if (options.prometheus) server.setRequestObserver(&ex->prometheus_.requestObserver());
  registerRoutes(server, api, ex->hub_, options.prometheus ? &ex->prometheus_ : nullptr,
                 options);
  return ex;
}

}  // namespace zc::exporters
