// GET /api/openapi.json: the HTTP API's description (OpenAPI 3.1), docs/openapi.yaml converted
// to JSON at build time (exporters/openapi/embed.mjs) and compiled into the daemon, so an
// installed collector serves it without any file beside it. Under the same access rules as the
// rest of /api: with tokens on, any credential (scope read or operate) may read it.
//
// Answers 200 with `application/json` and `Cache-Control: no-store`, or 404 not_found when the
// daemon was built without Node.js (the document could not be converted; openApiJson() empty).
//
// Thread-safety: runs concurrently on the workers; the document is immutable.
#pragma once

#include <string>

#include "zc/exporters/http_server.h"

namespace zc::exporters {

// The document as compact JSON; empty when the build could not convert it. Generated
// (openapi_document.cpp in the build folder).
const std::string& openApiJson();

Handler openApiHandler();

}  // namespace zc::exporters
