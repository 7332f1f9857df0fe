// JSON answers: the error body {"error":"<code>","message":"<message>"} every failure carries,
// and the complete error responses the server writes itself, before any handler ran (the
// reactor's 4xx/503 and the workers' 408). sendJsonText() and sendError(), for handlers, are
// declared in zc/exporters/http_server.h and defined with these.
//
// Thread-safety: pure functions; callable from any thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace zc::exporters {

inline constexpr const char* kJsonContentType = "application/json; charset=utf-8";

// {"error":"<code>","message":"<message>"}; `message` is sanitised to UTF-8.
std::string errorJson(const std::string& code, const std::string& message);

// A whole error response (head and JSON body) that closes the connection.
std::string errorResponse(int status, const std::string& code, const std::string& message,
                          std::vector<std::pair<std::string, std::string>> fields = {});

}  // namespace zc::exporters
