// The log-file record decoders (plugins/logfile_common) on arbitrary bytes.
//
// Checks: JsonFileDecoder::decode and CriDecoder::decode never crash nor read outside their
// input, whatever it is; a decoded record's content lies within the input or the decoder's
// buffer and its stream is stdout or stderr; and the input, taken as the text of a line and
// written as the engine writes it (a JSON string, control bytes and quotes escaped, the rest as
// it is), decodes back to exactly that text.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "cri_decoder.h"
#include "fuzz_support.h"
#include "json_file_decoder.h"

namespace {

std::string jsonString(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  zc::logfile::JsonFileDecoder json;
  zc::logfile::LogRecord r;
  if (json.decode(in, &r).isOk()) {
    FUZZ_CHECK(r.stream == zc::LogStream::kStdout || r.stream == zc::LogStream::kStderr,
               "bad stream");
    FUZZ_CHECK(r.ts > 0, "time not set");
  }
  zc::logfile::CriDecoder cri;
  if (cri.decode(in, &r).isOk()) {
    FUZZ_CHECK(r.stream == zc::LogStream::kStdout || r.stream == zc::LogStream::kStderr,
               "bad stream");
    FUZZ_CHECK(r.content.size() <= in.size() + 1, "content longer than the line");
  }
  std::string line = R"({"log":")" + jsonString(in) +
                     R"(","stream":"stderr","time":"2026-11-29T16:35:01.025339391Z"})";
  auto st = json.decode(line, &r);
  FUZZ_CHECK(st.isOk(), "engine-shaped line refused: %s (%s)", st.message().c_str(),
             zc::fuzz::hexPreview(in).c_str());
  FUZZ_CHECK(r.content == in, "round trip changed the text (%s)", zc::fuzz::hexPreview(in).c_str());
  FUZZ_CHECK(r.stream == zc::LogStream::kStderr, "stream");
  return 0;
}
