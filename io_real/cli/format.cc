#include "io_real/cli/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/wire/civil_date.h"

namespace shoal::real {

namespace {

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // count code points, not bytes
  }
  return n;
}

constexpr int64_t kNsPerSecond = 1'000'000'000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at text[pos]; -1 if they are not there.
int64_t digits(std::string_view text, size_t pos, size_t n) {
  if (pos + n > text.size()) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!is_digit(text[pos + i])) return -1;
    v = v * 10 + (text[pos + i] - '0');
  }
  return v;
}

}  // namespace

std::string format_table(const Row& header, const std::vector<Row>& rows) {
  constexpr size_t kMinWidth = 10, kPadding = 3;
  const size_t columns = header.size();
  std::vector<size_t> width(columns, 0);
  auto measure = [&](const Row& row) {
    for (size_t c = 0; c < columns && c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));
  };
  measure(header);
  for (const Row& r : rows) measure(r);
  for (auto& w : width) w = std::max(w + kPadding, kMinWidth);

  std::string out;
  auto emit = [&](const Row& row) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      const std::string cell = c < row.size() ? row[c] : std::string();
      line += cell;
      if (c + 1 < columns) line.append(width[c] - display_width(cell), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  emit(header);
  for (const Row& r : rows) emit(r);
  return out;
}

std::string human_duration(Duration d) {
  const double secs = to_seconds(d);
  const auto seconds = static_cast<int64_t>(secs);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  const auto minutes = static_cast<int64_t>(secs / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  const auto hours = static_cast<int64_t>(secs / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(static_cast<int64_t>(secs / 3600) / 24 / 365) + " years";
}

std::string ago(std::string_view rfc3339, int64_t now_ns) {
  auto t = parse_rfc3339(rfc3339);
  if (!t.ok()) return "";
  return human_duration(Duration(std::max<int64_t>(0, now_ns - *t))) + " ago";
}

Result<int64_t> parse_rfc3339(std::string_view text) {
  auto bad = [&](const char* why) {
    return Status::invalid_argument("bad RFC 3339 time \"" + std::string(text.substr(0, 64)) + "\": " + why);
  };
  // YYYY-MM-DDTHH:MM:SS
  if (text.size() < 20) return bad("too short");
  const int64_t year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  const int64_t hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' || text[16] != ':') {
    return bad("want YYYY-MM-DDTHH:MM:SS");
  }
  size_t pos = 19;
  int64_t frac_ns = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    const size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) {
      frac_ns += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad("empty fraction");
  }
  if (pos >= text.size()) return bad("missing time zone");
  int64_t offset_s = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int64_t oh = digits(text, pos + 1, 2), om = digits(text, pos + 4, 2);
    if (oh < 0 || om < 0 || pos + 3 >= text.size() || text[pos + 3] != ':') return bad("bad time zone offset");
    offset_s = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad("bad time zone");
  }
  if (pos != text.size()) return bad("trailing text");
  const int64_t days = wire::days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * kNsPerSecond + frac_ns;
}

std::string pretty_time(int64_t ns) {
  const wire::CivilTime t = wire::civil_time_from_unix_ns(ns);
  const int64_t frac = t.nanos;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(t.date.year),
                t.date.month, t.date.day, static_cast<long long>(t.hour), static_cast<long long>(t.minute),
                static_cast<long long>(t.second));
  std::string out = buf;
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%09lld", static_cast<long long>(frac));
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  return out + " +0000 utc";
}

Result<Duration> parse_go_duration(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::invalid_argument("invalid duration \"" + std::string(text.substr(0, 64)) + "\": " + why +
                                    " (want e.g. 90m, 1h30m, 2160h, 90d)");
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return bad("empty");
  long double total_ns = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double value = 0;
    bool any = false;
    while (i < s.size() && is_digit(s[i])) {
      value = value * 10 + (s[i] - '0');
      ++i;
      any = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && is_digit(s[i])) {
        value += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        any = true;
      }
    }
    if (!any) return bad("expected a number");
    size_t u = i;
    while (u < s.size() && !is_digit(s[u]) && s[u] != '.') ++u;
    const std::string_view unit = s.substr(i, u - i);
    long double per;
    if (unit == "ns") per = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") per = 1e3L;
    else if (unit == "ms") per = 1e6L;
    else if (unit == "s") per = 1e9L;
    else if (unit == "m") per = 60e9L;
    else if (unit == "h") per = 3600e9L;
    else if (unit == "d") per = 86400e9L;  // not Go's; shoald init --cert-expiry takes it too
    else if (unit.empty()) return bad("missing unit");
    else return bad("unknown unit \"" + std::string(unit) + "\"");
    total_ns += value * per;
    if (total_ns > 9.2e18L) return bad("overflow");
    s.remove_prefix(u);
  }
  const auto ns = static_cast<int64_t>(total_ns + 0.5L);
  return Duration(negative ? -ns : ns);
}

std::string format_go_duration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign;
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  if (ns < 0) sign = "-";
  auto with_fraction = [](uint64_t v, uint64_t unit, int digits_of_unit) {
    std::string out = std::to_string(v / unit);
    uint64_t frac = v % unit;
    if (frac != 0) {
      std::string f = std::to_string(frac);
      f.insert(0, static_cast<size_t>(digits_of_unit) - f.size(), '0');
      while (f.back() == '0') f.pop_back();
      out += "." + f;
    }
    return out;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + with_fraction(u, 1000, 3) + "\xC2\xB5s";
  if (u < 1'000'000'000) return sign + with_fraction(u, 1'000'000, 6) + "ms";
  const uint64_t total_secs = u / 1'000'000'000;
  const uint64_t sub = u % 1'000'000'000;
  const uint64_t h = total_secs / 3600, m = total_secs / 60 % 60, s = total_secs % 60;
  std::string out = sign;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += with_fraction(s * 1'000'000'000 + sub, 1'000'000'000, 9) + "s";
  return out;
}

std::string bytes_size(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  size_t i = 0;
  while (bytes >= 1024 && i + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%s", bytes, kUnits[i]);
  return buf;
}

Result<int64_t> parse_ram_bytes(std::string_view text) {
  auto bad = [&] { return Status::invalid_argument("invalid size: '" + std::string(text) + "'"); };
  // ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$
  size_t i = 0;
  while (i < text.size() && (is_digit(text[i]) || (text[i] == '.' && i > 0 && is_digit(text[i - 1])))) ++i;
  if (i == 0 || text[i - 1] == '.') return bad();
  const std::string number(text.substr(0, i));
  std::string_view unit = text.substr(i);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  double multiplier = 1;
  if (!unit.empty()) {
    const char u = static_cast<char>(std::tolower(static_cast<unsigned char>(unit.front())));
    const std::string_view kUnits = "kmgtp";
    if (const size_t k = kUnits.find(u); k != std::string_view::npos) {
      multiplier = std::pow(1024.0, static_cast<double>(k + 1));
      unit.remove_prefix(1);
    }
  }
  if (!unit.empty() && (unit.front() == 'i' || unit.front() == 'I')) unit.remove_prefix(1);
  if (!unit.empty() && (unit.front() == 'b' || unit.front() == 'B')) unit.remove_prefix(1);
  if (!unit.empty()) return bad();
  // "1.2.3" matches the regex too; strtod then reads "1.2", as Go's ParseFloat would refuse it.
  if (std::count(number.begin(), number.end(), '.') > 1) return bad();
  const double bytes = std::strtod(number.c_str(), nullptr) * multiplier;
  if (!(bytes < 9.2e18)) return bad();
  return static_cast<int64_t>(bytes);
}

Result<int64_t> parse_nano_cpus(std::string_view text) {
  auto bad = [&] { return Status::invalid_argument("failed to parse " + std::string(text) + " as a rational number"); };
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() && frac.empty()) return bad();
  for (char c : whole) {
    if (!is_digit(c)) return bad();
  }
  for (char c : frac) {
    if (!is_digit(c)) return bad();
  }
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  while (frac.size() > 9 && frac.back() == '0') frac.remove_suffix(1);
  if (frac.size() > 9) return Status::invalid_argument("value is too precise");
  if (whole.size() > 9) return Status::invalid_argument("value " + std::string(text) + " is too large");
  int64_t nano = 0;
  for (char c : whole) nano = nano * 10 + (c - '0');
  nano *= 1'000'000'000;
  int64_t scale = 100'000'000;
  for (char c : frac) {
    nano += (c - '0') * scale;
    scale /= 10;
  }
  return nano;
}

std::string format_cpus(int64_t nano_cpus) {
  std::string out = std::to_string(nano_cpus / 1'000'000'000);
  int64_t frac = nano_cpus % 1'000'000'000;
  if (frac == 0) return out;
  std::string digits = std::to_string(frac);
  digits.insert(0, 9 - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

std::string ellipsize(std::string_view text, size_t max_width) {
  if (display_width(text) <= max_width || max_width == 0) return std::string(text);
  std::string out;
  size_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool starts_point = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (starts_point && ++points == max_width) break;
    out += text[i];
  }
  return out + "…";
}

std::string pretty_word(std::string_view word) {
  std::string out(word);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && is_digit(a[ie])) ++ie;
      while (je < b.size() && is_digit(b[je])) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  if ((a.size() - i) != (b.size() - j)) return a.size() - i < b.size() - j;
  return a < b;  // equal up to leading zeros: any fixed order
}

std::string trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  size_t b = 0, e = text.size();
  while (b < e && space(text[b])) ++b;
  while (e > b && space(text[e - 1])) --e;
  return std::string(text.substr(b, e - b));
}

}  // namespace shoal::real
