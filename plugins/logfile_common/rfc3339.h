// RFC 3339 timestamps as container log files write them ("2026-11-29T16:35:01.025339391Z",
// Go's RFC3339Nano: 0 to 9 fraction digits, trailing zeros trimmed; "Z" or "+hh:mm"/"-hh:mm").
//
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string_view>

#include "zc/model.h"

namespace zc::logfile {

// Nanoseconds since the epoch, or nullopt for anything that is not such a timestamp in
// 1970..2262 (what TimeNs holds). Exactly `s`, nothing before or after.
std::optional<TimeNs> parseRfc3339Nano(std::string_view s) noexcept;

}  // namespace zc::logfile
