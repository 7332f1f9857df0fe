// The JSON shapes of the REST API and the SSE `data:` fields, written with JsonWriter:
// camelCase names, times RFC 3339 UTC (log line `ts` with nanoseconds, every other time with
// milliseconds), absent values null, text sanitised to valid UTF-8.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "zc/exporters/json_writer.h"
#include "zc/model.h"

namespace zc::exporters {

// {"id","name","slug","entityType","status","publicUrl","registryUrl","entityId","publicKey",
//  "hostPort","containerId","createdAt","startedAt","lastExitCode","lastCrashAt","errorMessage"}
void writeDeployment(JsonWriter& w, const Deployment& d);
// {"lineNo","stream","ts","text","truncated"}
void writeLogLine(JsonWriter& w, const LogLine& line);
std::string logLineJson(const LogLine& line);
// {"sampledAt","cpuPct","memUsedMb","memLimitMb"}
void writeMetricSample(JsonWriter& w, const MetricSample& s);

}  // namespace zc::exporters
