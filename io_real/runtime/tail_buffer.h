// TailBuffer: the last `limit` bytes of an unbounded stream (a task's stdout and stderr).
//
// Appending never grows the buffer past its limit: once full it becomes a ring and each new byte
// overwrites the oldest. The bytes dropped so far are counted, so a caller can say how much was
// lost. Memory grows with what is written, up to the limit (an idle task costs nothing).
//
// Not thread-safe; ProcessRuntime uses it from its one event-loop thread.
//
//   TailBuffer log(1 << 20);
//   log.append("hello\n");
//   std::string last = log.tail(100);  // at most the last 100 bytes, oldest first
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::real {

class TailBuffer {
 public:
  explicit TailBuffer(size_t limit) : limit_(limit) {}

  // Appends `data`, dropping the oldest bytes beyond the limit.
  void append(std::string_view data);
  // The last min(max_bytes, size()) bytes, oldest first.
  std::string tail(size_t max_bytes) const;

  size_t size() const { return buf_.size(); }
  size_t limit() const { return limit_; }
  // Bytes appended and since overwritten (or never kept).
  uint64_t dropped() const { return dropped_; }

 private:
  size_t limit_;
  // The kept bytes: buf_[start_..] then buf_[..start_). Invariants: buf_.size() <= limit_, and
  // start_ == 0 unless buf_ is full (then start_ < limit_ is the oldest byte).
  std::string buf_;
  size_t start_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace shoal::real
