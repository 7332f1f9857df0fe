// guarded(): the noexcept boundary of a plugin method.
//
// Every method of a plugin interface is noexcept and reports failure as Status / Result<T>
// (docs/plugin-abi.md), but the code behind it may still throw (std::bad_alloc, a library's
// exception). guarded(who, op, f) runs f() and returns what it returns; an exception escaping
// f() becomes Internal "<who>: <op>: <what()>" ("unknown exception" when it is not a
// std::exception), so nothing crosses the boundary as an exception. f() returns Status or
// Result<T>; `who` names the plugin ("rocksdb storage"), `op` the method ("appendLogs").
//
// Thread-safety: stateless; as thread-safe as f().
#pragma once

#include <exception>
#include <string_view>

#include "zc/status.h"

namespace zc::plugin {

// Internal "<who>: <op>: <what>". Never throws: when even the message cannot be allocated, the
// status is Internal with an empty message.
Status exceptionStatus(std::string_view who, std::string_view op, std::string_view what) noexcept;

template <typename F>
auto guarded(std::string_view who, std::string_view op, F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return exceptionStatus(who, op, e.what());
  } catch (...) {
    return exceptionStatus(who, op, "unknown exception");
  }
}

}  // namespace zc::plugin
