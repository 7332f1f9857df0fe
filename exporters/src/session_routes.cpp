#include "session_routes.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

#include "session_store.h"
#include "zc/exporters/json_writer.h"
#include "zc/model.h"

namespace zc::exporters {
namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

bool tokensOn(const AccessControl* access) {
  return access != nullptr && access->tokensEnabled();
}

// {"tokens","loggedIn","token","scope"} and, after a login, "expiresAt".
std::string stateJson(bool tokens, const std::string& name, const std::string& scope,
                      const std::string& expiresAt = std::string()) {
  JsonWriter w;
  w.beginObject();
  w.key("tokens").boolean(tokens);
  w.key("loggedIn").boolean(tokens && !name.empty());
  w.key("token").stringOrNull(name);
  w.key("scope").stringOrNull(scope);
  if (!expiresAt.empty()) w.key("expiresAt").string(expiresAt);
  w.endObject();
  return w.take();
}

// The token of a {"token":"..."} body; InvalidArgument naming what is wrong.
Result<std::string> tokenOfBody(std::istream& in) {
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) return Status::invalidArgument("the body must be {\"token\":\"...\"}");
  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(text.str());
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument("the body is not JSON: " + e.message());
  }
  auto object = parsed.type() == typeid(Poco::JSON::Object::Ptr)
                    ? parsed.extract<Poco::JSON::Object::Ptr>()
                    : Poco::JSON::Object::Ptr();
  if (object.isNull()) return Status::invalidArgument("the body must be a JSON object");
  Poco::Dynamic::Var token = object->get("token");
  if (token.isEmpty() || !token.isString()) {
    return Status::invalidArgument("\"token\" must be a string");
  }
  std::string value = token.toString();
  if (value.empty() || value.size() > 256) {
    return Status::invalidArgument("\"token\" must be 1 to 256 characters");
  }
  return value;
}

}  // namespace

Handler sessionStateHandler(const AccessControl* access) {
  return [access](HTTPServerRequest& req, HTTPServerResponse& resp, const PathParams&) {
    const Requester& who = requesterOf(req);
    const bool on = tokensOn(access);
    sendJsonText(resp, 200, stateJson(on, on ? who.tokenName : "", on ? who.tokenScope : ""));
  };
}

Handler loginHandler(const AccessControl* access) {
  return [access](HTTPServerRequest& req, HTTPServerResponse& resp, const PathParams&) {
    if (!tokensOn(access)) {
      return sendError(resp, 404, "not_found", "tokens are off: there is nothing to log in to");
    }
    auto token = tokenOfBody(req.stream());
    if (!token.isOk()) return sendError(resp, 400, "bad_request", token.status().message());
    auto login = access->login(req, *token);
    if (!login.isOk()) {
      if (login.status().code() == Status::Code::kNotFound) {
        resp.set("WWW-Authenticate", "Bearer");
        return sendError(resp, 401, "unauthorized", login.status().message());
      }
      return sendError(resp, 500, "internal", login.status().message());
    }
    resp.set("Set-Cookie", login->setCookie);
    const auto expires =
        std::chrono::duration_cast<std::chrono::nanoseconds>(login->expiresAt.time_since_epoch());
    sendJsonText(resp, 200,
                 stateJson(true, login->tokenName, tokenScopeName(login->scope),
                           formatRfc3339Millis(expires.count())));
  };
}

Handler logoutHandler(const AccessControl* access) {
  return [access](HTTPServerRequest& req, HTTPServerResponse& resp, const PathParams&) {
    resp.set("Set-Cookie",
             access != nullptr ? access->logout(req) : clearedSessionCookie(requestIsTls(req)));
    sendJsonText(resp, 200, stateJson(tokensOn(access), "", ""));
  };
}

}  // namespace zc::exporters
