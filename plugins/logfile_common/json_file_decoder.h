// JsonFileDecoder: one line of a Docker json-file log -> LogRecord.
//
// Each line the engine's json-file driver writes is one JSON object,
//   {"log":"hello\n","stream":"stdout","time":"2026-11-29T16:35:01.025339391Z"}
// (possibly with "attrs":{...} when the container has log-opt labels/env; other members are
// skipped whatever their value). "log" is decoded fully: every escape, \u escapes with surrogate
// pairs (a lone surrogate becomes U+FFFD, as the engine's own decoder does), and bytes that are
// not valid UTF-8 are kept as they stand in the file. A "log" value that does not end in "\n" is
// a partial piece of a longer line (the engine cuts lines at 16 KiB) or the last bytes a
// container wrote before it exited; joining is the reader's job (LineAssembler in runtime_docker).
//
// Fast path: a "log" value without backslashes is not copied (content points into the line).
// Anything malformed is Corruption with a short reason; nothing is ever read outside `line`.
//
// Thread-safety: none (holds a scratch buffer); one per reader.
#pragma once

#include <string>
#include <string_view>

#include "log_record.h"
#include "zc/status.h"

namespace zc::logfile {

class JsonFileDecoder {
 public:
  // Decodes one line (without its '\n'). On success `out->content` is valid until the next
  // call or until `line`'s bytes change.
  Status decode(std::string_view line, LogRecord* out);

 private:
  std::string scratch_;
};

// Appends the JSON string body `body` (between the quotes, escapes still in) decoded to `out`.
// False on a bad escape. Exposed for tests and the fuzzer.
bool decodeJsonString(std::string_view body, std::string& out);

}  // namespace zc::logfile
