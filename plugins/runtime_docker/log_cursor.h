// LogCursor: the resume point of one container's log follow (the opaque LogChunk::cursor).
//
// The engine's `since` is inclusive and compares each message's own timestamp; each stream's
// timestamps never go backwards, but stdout and stderr may be skewed against each other. So the
// cursor keeps, per stream: the timestamp of the last engine message that belongs to a delivered
// line, how many delivered messages of that stream carried exactly that timestamp, and the
// timestamp of the first piece of a line still pending (not delivered) if any.
//
// Resume rule: since = min over streams of (lastTs, pendingTs), minus a safety margin for the
// cross-stream skew; then, per stream, drop every message with ts < lastTs and the first `count`
// messages with ts == lastTs (see ResumeFilter in line_assembler.h).
//
// A follow that reads the engine's json-file directly (log_source=file, file_follower.h) adds
// where it is in the file (FileCursor), and keeps the timestamps above in step, so a deployment
// can switch between the file and the API across restarts: the API ignores the file part, the
// file reader falls back to the timestamps when the cursor has no file part or its file is gone.
//
// Encoding: "v1-<outTs>-<outCount>-<outPending>-<errTs>-<errCount>-<errPending>", decimal, 0 =
// absent; with a file part "v2-<the same six>-<dev>-<ino>-<headLen>-<headHash>-<offset>-
// <skipOut>-<skipErr>". v1 cursors stay valid. The empty string is the beginning of the log.
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zc/model.h"
#include "zc/status.h"

namespace zc::docker {

struct StreamPosition {
  TimeNs lastTs = 0;      // 0: no delivered message on this stream
  uint32_t count = 0;     // delivered messages with ts == lastTs
  TimeNs pendingTs = 0;   // first piece of an undelivered partial line; 0: none

  friend bool operator==(const StreamPosition&, const StreamPosition&) = default;
};

// A position in the container's json-file (see plugins/logfile_common/file_tail.h): the file
// (device, inode, and its first line's length and FNV-1a 64 hash) and a byte offset in it; a
// resume reads from there and drops, per stream, the first `skip` records (already delivered
// while a line of the other stream, which starts at the offset, was still pending).
struct FileCursor {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t headLen = 0;  // at most 4096
  uint64_t headHash = 0;
  uint64_t offset = 0;
  uint32_t skipOut = 0;
  uint32_t skipErr = 0;

  friend bool operator==(const FileCursor&, const FileCursor&) = default;
};

struct LogCursor {
  StreamPosition out;  // stdout (and TTY output)
  StreamPosition err;  // stderr
  std::optional<FileCursor> file;  // set by the file follower only

  StreamPosition& at(LogStream s) noexcept { return s == LogStream::kStderr ? err : out; }
  const StreamPosition& at(LogStream s) const noexcept {
    return s == LogStream::kStderr ? err : out;
  }
  bool empty() const noexcept {
    return out == StreamPosition{} && err == StreamPosition{} && !file;
  }

  // "" for an empty cursor, else the v1 form above (v2 with a file part).
  std::string encode() const;
  // Inverse of encode(). InvalidArgument for anything malformed (never crashes).
  static Result<LogCursor> decode(std::string_view text);

  // The `since` to ask the engine for, in ns: min over streams of the non-zero lastTs/pendingTs,
  // minus `marginNs`, floored at 0. 0 means "from the beginning" (no since parameter).
  TimeNs sinceNs(int64_t marginNs) const noexcept;

  friend bool operator==(const LogCursor&, const LogCursor&) = default;
};

// "<seconds>.<9 digits>" as the engine's since/until parameters take it.
std::string formatSince(TimeNs t);

}  // namespace zc::docker
