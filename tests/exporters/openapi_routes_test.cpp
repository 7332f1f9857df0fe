// The API description against the router's own table: every (method, pattern) registerRoutes()
// serves is an operation of docs/openapi.yaml (as served at GET /api/openapi.json, the JSON
// compiled into the daemon), and every documented operation is served. A route added without
// its description (or a description of a route that is gone) fails here. What each route
// answers is checked against the document by tests/contract (contract.api).
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include "exporter_fixture.h"
#include "openapi_route.h"

namespace zc {
namespace {

using zc::testing::ExporterStack;
using zc::testing::httpRequest;

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

exporters::ExporterOptions everyRoute() {
  exporters::ExporterOptions o;
  o.webDir = "/nonexistent-pages";  // the page routes are registered whenever a folder is set
  o.prometheus = true;
  return o;
}

std::set<std::string> documentedOperations(const std::string& json) {
  Poco::JSON::Parser parser;
  auto doc = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
  std::set<std::string> ops;
  auto paths = doc->getObject("paths");
  for (const auto& [path, item] : *paths) {
    auto obj = item.extract<Poco::JSON::Object::Ptr>();
    for (const char* m : {"get", "put", "post", "delete", "patch", "head", "options"}) {
      if (obj->has(m)) ops.insert(upper(m) + " " + path);
    }
  }
  return ops;
}

TEST(OpenApiRoutesTest, EveryServedRouteIsDocumentedAndEveryDocumentedOneServed) {
  if (exporters::openApiJson().empty()) GTEST_SKIP() << "built without Node.js: no document";
  ExporterStack stack(everyRoute());
  std::set<std::string> served;
  for (const auto& [method, pattern] : stack.server->routes())
    served.insert(method + " " + pattern);
  ASSERT_FALSE(served.empty());
  const std::set<std::string> documented = documentedOperations(exporters::openApiJson());
  for (const std::string& op : served) {
    EXPECT_TRUE(documented.count(op)) << op << " is served but not in docs/openapi.yaml";
  }
  for (const std::string& op : documented) {
    EXPECT_TRUE(served.count(op)) << op << " is in docs/openapi.yaml but not served";
  }
}

TEST(OpenApiRoutesTest, DocumentIsServedAsJsonWithoutCaching) {
  if (exporters::openApiJson().empty()) GTEST_SKIP() << "built without Node.js: no document";
  ExporterStack stack(everyRoute());
  auto r = httpRequest(stack.port(), "GET", "/api/openapi.json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.body, exporters::openApiJson());
  Poco::JSON::Parser parser;
  auto doc = parser.parse(r.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(doc->getValue<std::string>("openapi").rfind("3.1.", 0), 0u);
  auto head = httpRequest(stack.port(), "HEAD", "/api/openapi.json");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  auto post = httpRequest(stack.port(), "POST", "/api/openapi.json");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

}  // namespace
}  // namespace zc
