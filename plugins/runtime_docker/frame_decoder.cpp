#include "frame_decoder.h"

#include <string>

namespace zc::docker {

Status FrameDecoder::checkHeader() {
  if (header_[0] > 3) {
    error_ = "log stream: bogus frame stream type " + std::to_string(header_[0]);
  } else if (header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
    error_ = "log stream: non-zero padding in frame header";
  } else {
    need_ = (size_t{header_[4]} << 24) | (size_t{header_[5]} << 16) | (size_t{header_[6]} << 8) |
            size_t{header_[7]};
    if (need_ > maxPayload_) {
      error_ = "log stream: frame of " + std::to_string(need_) + " bytes exceeds the bound of " +
               std::to_string(maxPayload_);
    }
  }
  if (!error_.empty()) return Status::corruption(error_);
  stream_ = static_cast<FrameStream>(header_[0]);
  return Status::ok();
}

}  // namespace zc::docker
