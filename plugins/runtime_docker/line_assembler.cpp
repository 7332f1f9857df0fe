#include "line_assembler.h"

#include <cstring>

namespace zc::docker {

using plugin::RawLine;

LineAssembler::LineAssembler(Options options) : options_(options) {
  if (options_.maxLineBytes == 0) options_.maxLineBytes = 1;
  if (options_.partialPieceBytes == 0) options_.partialPieceBytes = 16 * 1024;
}

void LineAssembler::reset(const LogCursor& cursor, bool filter) {
  cursor_ = cursor;
  cursor_.file.reset();  // the file follower sets its own; an API follow must not carry it on
  for (LogStream st : {LogStream::kStdout, LogStream::kStderr}) {
    PerStream& s = streams_[index(st)];
    StreamPosition& pos = cursor_.at(st);
    s.pending = false;
    s.text.clear();
    s.truncated = false;
    s.firstTs = s.lastPieceTs = 0;
    s.piecesAtLastTs = 0;
    s.filtering = filter && pos.lastTs != 0;
    s.dropBefore = pos.lastTs;
    s.dropEqual = pos.count;
    pos.pendingTs = 0;
  }
}

void LineAssembler::append(PerStream& s, const char* p, size_t n) {
  if (s.truncated) return;
  size_t room = options_.maxLineBytes - s.text.size();
  if (n > room) {
    s.text.append(p, room);
    s.truncated = true;
  } else {
    s.text.append(p, n);
  }
}

void LineAssembler::emitWhole(LogStream stream, TimeNs ts, const char* p, size_t n, bool stripCr,
                              std::vector<RawLine>& out) {
  if (stripCr && n > 0 && p[n - 1] == '\r') --n;
  RawLine& line = out.emplace_back();
  line.stream = stream;
  line.ts = ts;
  if (n > options_.maxLineBytes) {
    line.text.assign(p, options_.maxLineBytes);
    line.truncated = true;
  } else {
    line.text.assign(p, n);
  }
  emittedBytes_ += line.text.size();
}

void LineAssembler::completePending(PerStream& s, LogStream stream, bool stripCr,
                                    std::vector<RawLine>& out) {
  // A '\r' that ended the kept text belongs to the CRLF when the line ends with '\n' right after.
  if (stripCr && !s.text.empty() && s.text.back() == '\r' &&
      (!s.truncated || s.text.size() < options_.maxLineBytes)) {
    s.text.pop_back();
  }
  RawLine& line = out.emplace_back();
  line.stream = stream;
  line.ts = s.firstTs;
  line.text = std::move(s.text);
  line.truncated = s.truncated;
  emittedBytes_ += line.text.size();
  s.text = std::string();
  s.truncated = false;
  s.pending = false;
  applyPieces(s, stream);
  cursor_.at(stream).pendingTs = 0;
}

void LineAssembler::applyPieces(PerStream& s, LogStream stream) {
  if (s.piecesAtLastTs == 0) return;
  StreamPosition& pos = cursor_.at(stream);
  // Pieces are in timestamp order and none is older than pos.lastTs: when the last piece shares
  // pos.lastTs, all of them do.
  if (s.lastPieceTs == pos.lastTs) {
    pos.count += s.piecesAtLastTs;
  } else {
    pos.lastTs = s.lastPieceTs;
    pos.count = s.piecesAtLastTs;
  }
  s.lastPieceTs = 0;
  s.piecesAtLastTs = 0;
}

void LineAssembler::applyMessage(LogStream stream, TimeNs ts) {
  StreamPosition& pos = cursor_.at(stream);
  if (ts == pos.lastTs) {
    ++pos.count;
  } else {
    pos.lastTs = ts;
    pos.count = 1;
  }
}

void LineAssembler::addPiece(PerStream& s, TimeNs ts) {
  if (s.piecesAtLastTs > 0 && ts == s.lastPieceTs) {
    ++s.piecesAtLastTs;
  } else {
    s.lastPieceTs = ts;
    s.piecesAtLastTs = 1;
  }
}

Status LineAssembler::message(LogStream stream, const char* p, size_t n, std::vector<RawLine>& out) {
  TimeNs ts;
  size_t prefix;
  if (!tsParser_.parsePrefix(p, n, &ts, &prefix)) {
    return Status::corruption("log stream: message without a valid timestamp prefix");
  }
  messageAt(stream, ts, p + prefix, n - prefix, out);
  return Status::ok();
}

void LineAssembler::messageAt(LogStream stream, TimeNs ts, const char* c, size_t len,
                              std::vector<RawLine>& out) {
  PerStream& s = streams_[index(stream)];
  if (s.filtering) {
    if (ts < s.dropBefore) return;
    if (ts == s.dropBefore && s.dropEqual > 0) {
      --s.dropEqual;
      return;
    }
    s.filtering = false;
    if (ts > s.dropBefore && s.dropEqual > 0 && !gap_) {
      gap_ = plugin::LogGap{stream, s.dropBefore, ts, std::nullopt};
    }
  }
  ++accepted_;

  // The common case: one whole line.
  if (!s.pending && len > 0 && c[len - 1] == '\n' && std::memchr(c, '\n', len - 1) == nullptr) {
    emitWhole(stream, ts, c, len - 1, true, out);
    applyMessage(stream, ts);
    return;
  }

  size_t pos = 0;
  while (pos < len) {
    const char* nl = static_cast<const char*>(std::memchr(c + pos, '\n', len - pos));
    if (nl != nullptr) {
      size_t end = static_cast<size_t>(nl - c);
      if (s.pending) {
        append(s, c + pos, end - pos);
        completePending(s, stream, true, out);
      } else {
        emitWhole(stream, ts, c + pos, end - pos, true, out);
      }
      pos = end + 1;
      continue;
    }
    // The rest has no '\n'.
    if (len >= options_.partialPieceBytes) {
      if (!s.pending) {
        s.pending = true;
        s.firstTs = ts;
        s.text.clear();
        s.truncated = false;
        cursor_.at(stream).pendingTs = ts;
      }
      append(s, c + pos, len - pos);
      addPiece(s, ts);
      return;
    }
    if (s.pending) {
      append(s, c + pos, len - pos);
      completePending(s, stream, false, out);
    } else {
      emitWhole(stream, ts, c + pos, len - pos, false, out);
    }
    pos = len;
  }
  if (len == 0 && s.pending) {
    // An empty piece after a partial line: it cannot end it; count it with the line.
    addPiece(s, ts);
    return;
  }
  applyMessage(stream, ts);
}

void LineAssembler::finish(std::vector<RawLine>& out) {
  for (LogStream st : {LogStream::kStdout, LogStream::kStderr}) {
    PerStream& s = streams_[index(st)];
    if (s.pending) completePending(s, st, false, out);
  }
}

}  // namespace zc::docker
