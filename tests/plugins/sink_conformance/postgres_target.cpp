// The postgres sink's SinkTarget: a real PostgreSQL 15 (tests/support/postgres_server.h), read
// back with plain SQL.
#include <cstdlib>

#include "postgres_server.h"
#include "sink_target.h"

namespace zc::testing {
namespace {

int64_t toInt(const std::string& s) { return std::strtoll(s.c_str(), nullptr, 10); }

class PostgresTarget final : public SinkTarget {
 public:
  std::string plugin() const override { return "postgres"; }
  bool prepare(std::string* why) override {
    if (!PostgresServer::installed()) {
      *why = "PostgreSQL 15 is not installed";
      return false;
    }
    Status st = server_.start();
    if (!st.isOk()) *why = st.toString();
    return st.isOk();
  }
  std::map<std::string, std::string> options() const override {
    return {{"url", server_.urlWithPassword()}};
  }
  std::vector<LogLine> storedLines(const std::string& id) override {
    std::vector<LogLine> out;
    auto rows = server_.query(
        "SELECT line_no, stream, (extract(epoch FROM ts) * 1000000)::bigint, text, truncated "
        "FROM deployment_logs WHERE deployment_id = '" + id + "' ORDER BY line_no");
    if (!rows.isOk()) return out;
    for (const auto& r : *rows) {
      LogLine l;
      l.deploymentId = id;
      l.lineNo = static_cast<uint64_t>(toInt(r[0]));
      l.stream = parseLogStream(r[1]).value_or(LogStream::kStdout);
      l.ts = toInt(r[2]) * 1000;
      l.text = r[3];
      l.truncated = r[4] == "t";
      out.push_back(std::move(l));
    }
    return out;
  }
  std::vector<MetricSample> storedSamples(const std::string& id) override {
    std::vector<MetricSample> out;
    auto rows = server_.query(
        "SELECT (extract(epoch FROM sampled_at) * 1000000)::bigint, cpu_pct, mem_used_mb, "
        "mem_limit_mb FROM deployment_metrics WHERE deployment_id = '" + id +
        "' ORDER BY sampled_at");
    if (!rows.isOk()) return out;
    for (const auto& r : *rows) {
      MetricSample s;
      s.deploymentId = id;
      s.sampledAt = toInt(r[0]) * 1000;
      s.cpuPct = std::strtod(r[1].c_str(), nullptr);
      s.memUsedMb = static_cast<double>(toInt(r[2]));
      s.memLimitMb = static_cast<double>(toInt(r[3]));
      out.push_back(s);
    }
    return out;
  }
  std::optional<Deployment> storedRow(const std::string& id) override {
    auto rows = server_.query("SELECT id, host, name, status, host_port, container_id FROM "
                              "deployments WHERE id = '" + id + "'");
    if (!rows.isOk() || rows->empty()) return std::nullopt;
    const auto& r = (*rows)[0];
    Deployment d;
    d.id = r[0];
    d.host = r[1];
    d.name = r[2] == "<null>" ? "" : r[2];
    d.status = parseDeploymentStatus(r[3]).value_or(DeploymentStatus::kRunning);
    if (r[4] != "<null>") d.hostPort = static_cast<int>(toInt(r[4]));
    d.containerId = r[5] == "<null>" ? "" : r[5];
    return d;
  }

 private:
  PostgresServer server_;
};

}  // namespace

std::unique_ptr<SinkTarget> makeSinkTarget(const std::string& plugin) {
  if (plugin == "postgres") return std::make_unique<PostgresTarget>();
  return nullptr;
}

std::vector<std::string> sinkPlugins() { return {"postgres"}; }

}  // namespace zc::testing
