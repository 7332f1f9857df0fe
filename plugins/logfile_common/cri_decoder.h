// CriDecoder: one line of a CRI / k8s-file log (what conmon writes for Podman, and the kubelet's
// container logs) -> LogRecord:
//   <RFC3339Nano> <stdout|stderr> <F|P> <text>
// `F` ends a line (the record's content gets a '\n' added), `P` is a partial piece the next
// record of the stream continues. The text is taken as it stands (no escapes in this format).
//
// Thread-safety: none (holds a scratch buffer); one per reader.
#pragma once

#include <string>
#include <string_view>

#include "log_record.h"
#include "zc/status.h"

namespace zc::logfile {

class CriDecoder {
 public:
  // Decodes one line (without its '\n'). Corruption for anything else. `out->content` is valid
  // until the next call.
  Status decode(std::string_view line, LogRecord* out);

 private:
  std::string scratch_;
};

}  // namespace zc::logfile
