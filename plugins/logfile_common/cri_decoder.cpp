#include "cri_decoder.h"

#include "zc/model.h"

namespace zc::logfile {

Status CriDecoder::decode(std::string_view line, LogRecord* out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return Status::corruption("cri line: no time");
  auto ts = parseRfc3339(line.substr(0, sp1));
  if (!ts.isOk()) return Status::corruption("cri line: bad time");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Status::corruption("cri line: no stream");
  std::string_view stream = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (stream == "stdout") {
    out->stream = LogStream::kStdout;
  } else if (stream == "stderr") {
    out->stream = LogStream::kStderr;
  } else {
    return Status::corruption("cri line: unknown stream");
  }
  // The tag: F or P, possibly followed by ':'-separated extras; then one space and the text (an
  // empty `F` line may end right after the tag).
  size_t sp3 = line.find(' ', sp2 + 1);
  std::string_view tag = line.substr(sp2 + 1, sp3 == std::string_view::npos ? std::string_view::npos
                                                                             : sp3 - sp2 - 1);
  std::string_view text = sp3 == std::string_view::npos ? std::string_view() : line.substr(sp3 + 1);
  bool partial;
  if (tag == "F" || tag.substr(0, 2) == "F:") {
    partial = false;
  } else if (tag == "P" || tag.substr(0, 2) == "P:") {
    partial = true;
  } else {
    return Status::corruption("cri line: unknown tag");
  }
  out->ts = ts.value();
  if (partial) {
    out->content = text;
  } else {
    scratch_.assign(text);
    scratch_.push_back('\n');
    out->content = scratch_;
  }
  return Status::ok();
}

}  // namespace zc::logfile
