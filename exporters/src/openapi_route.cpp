#include "openapi_route.h"

#include <spdlog/spdlog.h>

#include "json_response.h"

namespace zc::exporters {

Handler openApiHandler() {
  return [](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp, const PathParams&) {
    try {
      const std::string& json = openApiJson();
      if (json.empty()) {
        return sendError(resp, 404, "not_found",
                         "the API description was not built into this collector (the build "
                         "needs Node.js: see exporters/README.md)");
      }
      sendJsonText(resp, 200, json);
    } catch (const std::exception& e) {
      spdlog::error("/api/openapi.json: {}", e.what());
      if (!resp.sent())
        sendError(resp, 500, "internal", "the document failed inside the collector");
    }
  };
}

}  // namespace zc::exporters
