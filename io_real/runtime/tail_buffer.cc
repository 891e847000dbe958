#include "io_real/runtime/tail_buffer.h"

#include <algorithm>

namespace shoal::real {

void TailBuffer::append(std::string_view data) {
  if (data.size() >= limit_) {
    // Everything kept so far, and the head of `data`, is overwritten.
    dropped_ += buf_.size() + (data.size() - limit_);
    buf_.assign(data.substr(data.size() - limit_));
    start_ = 0;
    return;
  }
  const size_t room = limit_ - buf_.size();
  if (data.size() <= room) {  // not full, so start_ == 0: a plain append
    buf_.append(data);
    return;
  }
  // Fill what room is left (start_ stays 0), then overwrite the oldest bytes, wrapping at most
  // once since rest.size() < limit_.
  buf_.append(data.substr(0, room));
  const std::string_view rest = data.substr(room);
  const size_t first = std::min(rest.size(), limit_ - start_);
  rest.copy(buf_.data() + start_, first, 0);
  rest.copy(buf_.data(), rest.size() - first, first);
  start_ = (start_ + rest.size()) % limit_;
  dropped_ += rest.size();
}

std::string TailBuffer::tail(size_t max_bytes) const {
  const size_t n = std::min(max_bytes, buf_.size());
  if (n == 0) return {};
  const size_t from = (start_ + (buf_.size() - n)) % buf_.size();  // physical index of the first byte
  if (from + n <= buf_.size()) return buf_.substr(from, n);
  std::string out = buf_.substr(from);
  out.append(buf_, 0, n - out.size());
  return out;
}

}  // namespace shoal::real
