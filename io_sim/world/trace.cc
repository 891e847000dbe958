#include "io_sim/world/trace.h"

#include <cstring>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ostream>

#include "core/env/random.h"

namespace shoal::sim {

namespace {

// LEB128 varint of v into p (at most 10 bytes); returns the end.
char* put_varint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Folds bytes into the running hash eight at a time (a multiply-xorshift step per word): the
// trace hash is on every event's path, and byte-at-a-time FNV showed up in profiles.
uint64_t fold(uint64_t h, std::string_view bytes) {
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
  }
  uint64_t tail = bytes.size() - i;  // the length of the tail is part of the word
  for (size_t k = 0; i < bytes.size(); ++i, ++k) tail |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * (k + 1));
  h = (h ^ tail) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

std::string describe(const Trace::Record& r) {
  std::string s = r.kind;
  if (!r.detail.empty()) {
    s += ' ';
    s += r.detail;
  }
  return s;
}

std::string where(const Trace::Record& r) {
  return "t=" + format_sim_time(r.t) + " node " + std::to_string(r.node);
}

}  // namespace

Trace::Trace(std::function<SimTime()> now) : now_(std::move(now)) {}

void Trace::set_keep(bool keep) {
  if (keep == keep_) return;
  keep_ = keep;
  records_.clear();
  first_kept_ = count_;
}

void Trace::record(NodeId node, std::string_view kind, std::string_view detail) {
  record_at(now_ ? now_() : SimTime{0}, node, kind, detail);
}

void Trace::record_at(SimTime t, NodeId node, std::string_view kind, std::string_view detail) {
  // Canonical serialization: varint(t_ns), varint(node), kind, NUL, detail, LF.
  char head[20];
  char* end = put_varint(put_varint(head, static_cast<uint64_t>(t.count())), node);
  uint64_t h = fold(hash_, std::string_view(head, static_cast<size_t>(end - head)));
  h = fold(h, kind);
  hash_ = fold(h, detail);
  ++count_;
  if (keep_) records_.push_back(Record{t, node, std::string(kind), std::string(detail)});
}

std::string Trace::hash() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, hash_);
  return buf;
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

void Trace::write_jsonl(std::ostream& out) const {
  for (const Record& r : records_) {
    out << "{\"t_ns\":" << r.t.count() << ",\"node\":" << r.node << ",\"kind\":\""
        << json_escape(r.kind) << "\",\"detail\":\"" << json_escape(r.detail) << "\"}\n";
  }
}

void Trace::write_text(std::ostream& out) const {
  for (const Record& r : records_) {
    char head[64];
    std::snprintf(head, sizeof head, "%14s  n%-3" PRIu64 " ", format_sim_time(r.t).c_str(), r.node);
    out << head << describe(r) << '\n';
  }
}

std::optional<std::string> first_divergence(const Trace& a, const Trace& b) {
  if (a.count() == b.count() && a.hash_value() == b.hash_value()) return std::nullopt;
  const uint64_t a_begin = a.first_kept_index(), b_begin = b.first_kept_index();
  const uint64_t a_end = a_begin + a.records().size(), b_end = b_begin + b.records().size();
  const uint64_t begin = std::max(a_begin, b_begin);
  uint64_t i = begin;
  for (; i < a_end && i < b_end; ++i) {
    const Trace::Record& ra = a.records()[i - a_begin];
    const Trace::Record& rb = b.records()[i - b_begin];
    if (ra == rb) continue;
    const std::string num = "event #" + std::to_string(i + 1);
    if (ra.t == rb.t && ra.node == rb.node) {
      return num + " at " + where(ra) + ": '" + describe(ra) + "' vs '" + describe(rb) + "'";
    }
    return num + ": " + where(ra) + ": '" + describe(ra) + "' vs " + where(rb) + ": '" +
           describe(rb) + "'";
  }
  // The kept windows agree on their overlap. The difference is a missing tail if the overlap
  // starts at 0 and one trace ends (was kept to its end) where the overlap ends.
  if (begin == 0) {
    const std::string num = "event #" + std::to_string(i + 1);
    if (i == a.count() && i < b_end) {
      const Trace::Record& rb = b.records()[i - b_begin];
      return num + ": first trace ended after " + std::to_string(a.count()) + " events vs " +
             where(rb) + ": '" + describe(rb) + "'";
    }
    if (i == b.count() && i < a_end) {
      const Trace::Record& ra = a.records()[i - a_begin];
      return num + ": " + where(ra) + ": '" + describe(ra) + "' vs second trace ended after " +
             std::to_string(b.count()) + " events";
    }
  }
  return "traces differ (hash " + a.hash() + " vs " + b.hash() + ", " + std::to_string(a.count()) +
         " vs " + std::to_string(b.count()) +
         " events) but the first difference is not among the kept records; rerun both with "
         "recording on";
}

}  // namespace shoal::sim
