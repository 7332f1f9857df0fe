#include "page_routes.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "zc/model.h"

namespace zc::exporters {
namespace {

namespace fs = std::filesystem;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

constexpr const char* kPageCache = "no-cache";

bool isSafeName(const std::string& name) {
  if (name.empty() || name[0] == '.' || name.size() > 200) return false;
  for (unsigned char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string contentType(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json" || ext == ".map") return "application/json";
  return "application/octet-stream";
}

void sendFile(HTTPServerResponse& resp, const std::string& path, const std::string& cacheControl) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    sendError(resp, 404, "not_found",
              "page not available (the pages were not built: see web/README.md)");
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string body = ss.str();
  resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
  resp.setContentType(contentType(path));
  resp.set("Cache-Control", cacheControl);
  resp.setContentLength(static_cast<std::streamsize>(body.size()));
  resp.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

}  // namespace

Handler listPageHandler(const std::string& distDir) {
  return [distDir](HTTPServerRequest&, HTTPServerResponse& resp, const PathParams&) {
    sendFile(resp, distDir + "/index.html", kPageCache);
  };
}

Handler detailPageHandler(const std::string& distDir) {
  return [distDir](HTTPServerRequest&, HTTPServerResponse& resp, const PathParams& p) {
    if (!isValidDeploymentId(p.at("id"))) {
      sendError(resp, 404, "not_found", validateDeploymentId(p.at("id")).message());
      return;
    }
    sendFile(resp, distDir + "/detail.html", kPageCache);
  };
}

Handler assetHandler(const std::string& distDir) {
  return [distDir](HTTPServerRequest&, HTTPServerResponse& resp, const PathParams& p) {
    const std::string& file = p.at("file");
    if (!isSafeName(file)) {
      sendError(resp, 404, "not_found", "no such asset");
      return;
    }
    sendFile(resp, distDir + "/assets/" + file, "public, max-age=31536000, immutable");
  };
}

}  // namespace zc::exporters
