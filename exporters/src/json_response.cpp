#include "json_response.h"

#include "poco_adapters.h"
#include "response_head.h"
#include "zc/exporters/http_server.h"
#include "zc/exporters/json_writer.h"

namespace zc::exporters {

std::string errorJson(const std::string& code, const std::string& message) {
  JsonWriter w;
  w.beginObject().key("error").string(code).key("message").string(message).endObject();
  return w.take();
}

std::string errorResponse(int status, const std::string& code, const std::string& message,
                          std::vector<std::pair<std::string, std::string>> fields) {
  std::string body = errorJson(code, message);
  ResponseHead head;
  head.status = status;
  head.fields = std::move(fields);
  head.fields.emplace_back("Content-Type", kJsonContentType);
  head.contentLength = body.size();
  head.keepAlive = false;
  return writeResponseHead(head) + body;
}

void sendJsonText(Poco::Net::HTTPServerResponse& resp, int status, const std::string& json) {
  resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  resp.setContentType(kJsonContentType);
  resp.set("Cache-Control", "no-store");
  resp.setContentLength(static_cast<std::streamsize>(json.size()));
  resp.send().write(json.data(), static_cast<std::streamsize>(json.size()));
}

void sendJsonText(Poco::Net::HTTPServerResponse& resp, int status, std::string&& json) {
  auto* own = dynamic_cast<ServerResponse*>(&resp);
  if (own == nullptr) return sendJsonText(resp, status, static_cast<const std::string&>(json));
  resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  resp.setContentType(kJsonContentType);
  resp.set("Cache-Control", "no-store");
  resp.setContentLength(static_cast<std::streamsize>(json.size()));
  own->setBody(std::move(json));
}

void sendError(Poco::Net::HTTPServerResponse& resp, int status, const std::string& code,
               const std::string& message) {
  sendJsonText(resp, status, errorJson(code, message));
}

}  // namespace zc::exporters
