#include "zc/plugin/guard.h"

#include <string>

namespace zc::plugin {

Status exceptionStatus(std::string_view who, std::string_view op, std::string_view what) noexcept {
  try {
    std::string msg;
    msg.reserve(who.size() + op.size() + what.size() + 4);
    msg.append(who).append(": ").append(op).append(": ").append(what);
    return Status::internal(std::move(msg));
  } catch (...) {
    // Out of memory while reporting: the code still says what happened.
    return Status::internal(std::string());
  }
}

}  // namespace zc::plugin
