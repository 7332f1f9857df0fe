#include "api_json.h"

namespace zc::exporters {
namespace {

void timeOrNull(JsonWriter& w, TimeNs t) {
  if (t == 0) {
    w.null();
  } else {
    w.string(formatRfc3339Millis(t));
  }
}

}  // namespace

void writeDeployment(JsonWriter& w, const Deployment& d) {
  w.beginObject();
  w.key("id").string(d.id);
  w.key("host").stringOrNull(d.host);
  w.key("name").stringOrNull(d.name);
  w.key("slug").stringOrNull(d.slug);
  w.key("entityType").stringOrNull(d.entityType);
  w.key("status").string(toString(d.status));
  w.key("publicUrl").stringOrNull(d.publicUrl);
  w.key("registryUrl").stringOrNull(d.registryUrl);
  w.key("entityId").stringOrNull(d.entityId);
  w.key("publicKey").stringOrNull(d.publicKey);
  w.key("hostPort").optionalInteger(d.hostPort);
  w.key("containerId").stringOrNull(d.containerId);
  w.key("createdAt");
  timeOrNull(w, d.createdAt);
  w.key("startedAt");
  timeOrNull(w, d.startedAt.value_or(0));
  w.key("lastExitCode").optionalInteger(d.lastExitCode);
  w.key("lastCrashAt");
  timeOrNull(w, d.lastCrashAt.value_or(0));
  w.key("errorMessage").stringOrNull(d.errorMessage);
  w.endObject();
}

void writeLogLine(JsonWriter& w, const LogLine& line) {
  w.beginObject();
  w.key("lineNo").unsignedInteger(line.lineNo);
  w.key("stream").string(toString(line.stream));
  w.key("ts");
  if (line.ts == 0) {
    w.null();
  } else {
    w.string(formatRfc3339Nano(line.ts));
  }
  w.key("text").string(line.text);
  w.key("truncated").boolean(line.truncated);
  w.endObject();
}

std::string logLineJson(const LogLine& line) {
  JsonWriter w;
  writeLogLine(w, line);
  return w.take();
}

void writeMetricSample(JsonWriter& w, const MetricSample& s) {
  w.beginObject();
  w.key("sampledAt").string(formatRfc3339Millis(s.sampledAt));
  w.key("cpuPct").number(s.cpuPct);
  w.key("memUsedMb").number(s.memUsedMb);
  w.key("memLimitMb").number(s.memLimitMb);
  w.endObject();
}

}  // namespace zc::exporters
