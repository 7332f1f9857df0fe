// The bytes of an SSE log stream: the response head (through writeResponseHead(), like every
// other answer), the `retry:` field, and each event. Every event is one `data:` line (JsonWriter
// escapes every CR and LF) closed by an empty line.
//
// Thread-safety: pure functions; callable from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zc/model.h"

namespace zc::exporters {

inline constexpr const char* kSseEndEvent = "event: end\ndata: {}\n\n";
inline constexpr const char* kSseHeartbeat = ": keep-alive\n\n";

// 200, text/event-stream, not cached, not buffered by proxies; the stream ends with the
// connection.
std::string sseResponseHead();
// `retry: <ms>`: how long a client waits before it reconnects.
std::string sseRetry(int retryMs);
// event: log / id: <lineNo> / data: <the line as the REST API writes it>.
std::string sseLogEvent(const LogLine& line);
// The line as the REST API writes it (the data of its log event).
std::string sseLineJson(const LogLine& line);
// The data of an event made by sseLogEvent(): the line's JSON, a view into `event`.
std::string_view sseLogEventData(std::string_view event) noexcept;
// event: lines / id: <lastLineNo> / data: [<line JSON>,...]: a run of consecutive lines in one
// event (a stream opened with ?batch=1); `joined` is their JSON, comma-separated, and
// `lastLineNo` the lineNo of the last one.
std::string sseLinesEvent(uint64_t lastLineNo, std::string_view joined);
// event: reset / id: <lastLineNo> / data: {"lastLineNo":<lastLineNo>}: the client's position
// (Last-Event-ID or ?since=) is past the last stored line (the storage was replaced, e.g. an
// ephemeral store after a restart). The client drops what it shows and reloads up to
// lastLineNo; the stream goes on with the lines after it. The `id:` makes a later reconnect
// resume from there.
std::string sseResetEvent(uint64_t lastLineNo);
// event: status / data: {"status":"<status>"}.
std::string sseStatusEvent(DeploymentStatus status);

}  // namespace zc::exporters
