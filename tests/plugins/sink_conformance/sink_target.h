// What the sink conformance suite needs of each sink plugin beyond the plugin itself: the
// destination to forward to, and a way to read back what the sink stored there (straight from
// the destination, not through the plugin). One SinkTarget per plugin; conformance_test.cpp
// runs every test against each.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zc/model.h"

namespace zc::testing {

class SinkTarget {
 public:
  virtual ~SinkTarget() = default;
  // The plugin's name ("postgres").
  virtual std::string plugin() const = 0;
  // Starts the destination when needed; false (with *why) when it cannot.
  virtual bool prepare(std::string* why) = 0;
  // The plugin options that reach the destination.
  virtual std::map<std::string, std::string> options() const = 0;
  // What the destination holds for one deployment, in lineNo / sampledAt order.
  virtual std::vector<LogLine> storedLines(const std::string& deploymentId) = 0;
  virtual std::vector<MetricSample> storedSamples(const std::string& deploymentId) = 0;
  // The stored row (its `host` set), or nullopt.
  virtual std::optional<Deployment> storedRow(const std::string& deploymentId) = 0;
};

// Every sink the suite covers, by plugin name.
std::unique_ptr<SinkTarget> makeSinkTarget(const std::string& plugin);
std::vector<std::string> sinkPlugins();

}  // namespace zc::testing
