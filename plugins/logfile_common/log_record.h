// LogRecord: one record of a container log file, as a decoder of that file's format hands it to
// its reader. Shared by every file format (Docker json-file, CRI/k8s-file).
//
// Thread-safety: plain value; `content` points into the decoder's scratch buffer or the line
// it was given, valid until the next decode.
#pragma once

#include <string_view>

#include "zc/model.h"

namespace zc::logfile {

struct LogRecord {
  LogStream stream = LogStream::kStdout;  // kStdout or kStderr
  TimeNs ts = 0;                          // the record's own timestamp
  // The record's text, decoded. A record that ends a line ends in '\n' (json-file keeps it in
  // "log"; the CRI decoder adds it to an `F` record), a partial piece does not.
  std::string_view content;
};

}  // namespace zc::logfile
