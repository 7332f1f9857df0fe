// The deployment pages (web/, built by Vite into dist/) served by the collector itself:
//   GET /              dist/index.html   (the list)
//   GET /d/{id}        dist/detail.html  (one deployment; the page reads the id from its path)
//   GET /assets/{file} dist/assets/<file> (hashed names: cached for a year)
// Files are read from `distDir` at request time (a missing file is a 404 that says the pages
// were not built); a name with anything but [A-Za-z0-9._-] or a leading '.' is refused with 404,
// so nothing outside distDir can be reached. Pages are `Cache-Control: no-cache`, assets (hashed
// names) cached for a year.
//
// Thread-safety: the handlers run concurrently on the workers; they share nothing.
#pragma once

#include <string>

#include "zc/exporters/http_server.h"

namespace zc::exporters {

// GET / and GET /d/{id} (an invalid id is a 404).
Handler listPageHandler(const std::string& distDir);
Handler detailPageHandler(const std::string& distDir);
// GET /assets/{file}
Handler assetHandler(const std::string& distDir);

}  // namespace zc::exporters
