// ReadBuffer: the bytes a file tail has read and not yet handed out.
//
// Unlike std::string, it grows without zero-filling the room it adds (the room is read into at
// once), so a read of a few bytes into a large buffer costs no memset and touches no page
// beyond the ones the read fills. Bytes are consumed from the front.
//
// Not thread-safe (one tail owns it).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace zc::logfile {

class ReadBuffer {
 public:
  ReadBuffer() = default;
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  const char* data() const noexcept { return data_.get() + start_; }
  size_t size() const noexcept { return end_ - start_; }
  bool empty() const noexcept { return end_ == start_; }
  size_t capacity() const noexcept { return cap_; }
  std::string_view view() const noexcept { return {data(), size()}; }

  // Drops the first `n` bytes (n <= size()).
  void consume(size_t n) noexcept { start_ += std::min(n, size()); }
  void clear() noexcept { start_ = end_ = 0; }

  // Room for at least `n` more bytes after the held ones (moved to the front first); the
  // caller writes up to `n` bytes there and then calls commit() with how many it wrote.
  char* room(size_t n) {
    if (start_ > 0) {
      std::memmove(data_.get(), data_.get() + start_, size());
      end_ -= start_;
      start_ = 0;
    }
    if (cap_ - end_ < n) {
      const size_t cap = std::max(end_ + n, cap_ + cap_ / 2);
      std::unique_ptr<char[]> bigger(new char[cap]);  // not zero-filled
      if (end_ > 0) std::memcpy(bigger.get(), data_.get(), end_);
      data_ = std::move(bigger);
      cap_ = cap;
      ++reallocations_;
    }
    return data_.get() + end_;
  }
  void commit(size_t n) noexcept { end_ += n; }

  // Gives the memory back, keeping the bytes held and `room` bytes after them
  // (capacity() == size() + room after).
  void shrinkToFit(size_t room = 0) {
    const size_t n = size();
    const size_t cap = n + room;
    std::unique_ptr<char[]> kept(cap > 0 ? new char[cap] : nullptr);
    if (n > 0) std::memcpy(kept.get(), data(), n);
    data_ = std::move(kept);
    cap_ = cap;
    end_ = n;
    start_ = 0;
    ++reallocations_;
  }
  // How many times the memory was replaced (grown or given back) so far: each one a copy of the
  // bytes held.
  uint64_t reallocations() const noexcept { return reallocations_; }

 private:
  std::unique_ptr<char[]> data_;
  size_t cap_ = 0;
  size_t start_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last byte held
  uint64_t reallocations_ = 0;
};

}  // namespace zc::logfile
