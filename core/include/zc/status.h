// Status and Result<T>: how every boundary in zynd-collector reports failure.
//
// A Status is either OK or a code with a one-line message meant for an operator. Result<T>
// holds either a T or a non-OK Status (g++ 12 has no std::expected). Both are plain values: they
// may cross the plugin boundary (the loader checks that both sides use the same toolchain), and
// neither ever throws on inspection except Result<T>::value() on an error, which is a bug.
//
// Thread-safety: values; no shared state.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace zc {

class [[nodiscard]] Status {
 public:
  enum class Code : int {
    kOk = 0,
    kInvalidArgument,  // the caller's input is wrong; retrying the same call fails again
    kNotFound,         // the named object does not exist
    kAlreadyExists,
    kFailedPrecondition,  // the call is valid but the state is wrong (e.g. lineNo gap)
    kUnavailable,         // a peer (engine, Caddy) could not be reached; retry later
    kIOError,             // local I/O failed (disk full, permission)
    kCorruption,          // stored data could not be decoded
    kTimeout,
    kAborted,   // stopped on request
    kInternal,  // a bug
  };

  Status() noexcept = default;
  static Status ok() noexcept { return Status(); }
  static Status invalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status notFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status alreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status failedPrecondition(std::string msg) {
    return Status(Code::kFailedPrecondition, std::move(msg));
  }
  static Status unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status ioError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status timeout(std::string msg) { return Status(Code::kTimeout, std::move(msg)); }
  static Status aborted(std::string msg) { return Status(Code::kAborted, std::move(msg)); }
  static Status internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool isOk() const noexcept { return code_ == Code::kOk; }
  explicit operator bool() const noexcept { return isOk(); }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  bool isNotFound() const noexcept { return code_ == Code::kNotFound; }

  // "NotFound: deployment 'x' is unknown"; "OK" for success.
  std::string toString() const;
  static std::string_view codeName(Code code) noexcept;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status withContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) noexcept {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a T or a non-OK Status. Constructing a Result from an OK Status is a bug (asserted,
// and turned into kInternal in release builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(v_).isOk());
    if (std::get<1>(v_).isOk()) v_.template emplace<1>(Status::internal("Result built from OK status"));
  }

  bool isOk() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return isOk(); }

  // OK when a value is held.
  Status status() const { return isOk() ? Status::ok() : std::get<1>(v_); }

  T& value() & {
    assert(isOk());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(isOk());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(isOk());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  T valueOr(T fallback) const& { return isOk() ? std::get<0>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace zc

#define ZC_CONCAT_INNER_(a, b) a##b
#define ZC_CONCAT_(a, b) ZC_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define ZC_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::zc::Status zc_status_ = (expr);           \
    if (!zc_status_.isOk()) return zc_status_;  \
  } while (0)

// `lhs = value of expr`, or returns its Status from the enclosing function.
#define ZC_ASSIGN_OR_RETURN(lhs, expr) ZC_ASSIGN_OR_RETURN_IMPL_(ZC_CONCAT_(zc_result_, __LINE__), lhs, expr)
#define ZC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.isOk()) return tmp.status();           \
  lhs = std::move(tmp).value()
