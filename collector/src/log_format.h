// The daemon's own log lines: how they look on stderr (and so in the journal under systemd).
//
//   text  "2026-11-29T18:04:07.123Z info listening on http://127.0.0.1:7070"
//   json  {"time":"2026-11-29T18:04:07.123Z","level":"info","logger":"zynd-collector",
//          "message":"listening on http://127.0.0.1:7070","fields":{}}  (one object per line)
//
// Times are RFC 3339 UTC with milliseconds in both. The message is the only free text; in json it
// is escaped so that every line is one valid JSON object whatever it holds (control bytes,
// quotes, invalid UTF-8 become escapes or U+FFFD). `fields` (always present, maybe empty) holds
// what the message's own conventions say about its subject, so that a log pipeline can filter
// without parsing the text: "plugin" ("storage") for a plugin's message ("[storage] ..."),
// "deployment" (a valid id) for a message about one deployment ("deployment <id>: ...").
// Thread-safety: setLogFormat() before any other thread logs (the config subsystem calls it);
// the formatter itself is used under spdlog's sink lock.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

#include "zc/status.h"

namespace zc::collector {

// "text" or "json"; InvalidArgument "--log-format: ..." for anything else.
Status setLogFormat(const std::string& format);

// The json formatter (exposed for tests).
std::unique_ptr<spdlog::formatter> makeJsonLogFormatter();

// The `fields` of a message (see above), as JSON object members in a fixed order, e.g.
// `"plugin":"runtime.docker"`; empty when the message names no subject. Pure.
std::string logFieldsOf(std::string_view message);

}  // namespace zc::collector
