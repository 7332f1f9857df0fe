// The deployment pages (web/, built by Vite into dist/) served by the collector itself:
//   GET /              dist/index.html   (the list)
//   GET /d/{id}        dist/detail.html  (one deployment; the page reads the id from its path)
//   GET /assets/{file} dist/assets/<file> (hashed names: cached for a year)
// Files are read from `distDir` at request time; a name with anything but [A-Za-z0-9._-] or a
// leading '.' is refused with 404, so nothing outside distDir can be reached.
#pragma once

#include <string>

#include "zc/exporters/http_server.h"

namespace zc::collector {

void registerWebPages(exporters::HttpServer& server, const std::string& distDir);

}  // namespace zc::collector
