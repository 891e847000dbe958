#include "io_real/api/http_types.h"

#include <nlohmann/json.hpp>

namespace shoal::real {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Shows a piece of client text in an error message without letting control bytes through.
std::string printable(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMax) out += "...";
  return out;
}

// Length of a Docker version segment at the start of `path` ("/v1.41"), or 0 if there is none.
// The segment must end the path or be followed by '/'.
size_t version_prefix_length(std::string_view path) {
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return 0;
  if (path[2] < '0' || path[2] > '9') return 0;
  size_t i = 3;
  while (i < path.size() && ((path[i] >= '0' && path[i] <= '9') || path[i] == '.')) ++i;
  if (i < path.size() && path[i] != '/') return 0;
  return i;
}

}  // namespace

HttpResponse json_response(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  // Invalid UTF-8 in a string is replaced rather than thrown on: a handler's answer always goes out.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

HttpResponse error_response(int status, std::string message) {
  return json_response(status, nlohmann::json{{"message", std::move(message)}});
}

HttpResponse empty_response(int status) {
  HttpResponse r;
  r.status = status;
  r.content_type.clear();
  return r;
}

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status::invalid_argument("bad percent-encoding \"" +
                                        printable(text.substr(i, 3)) + "\" in \"" +
                                        printable(text) + "\": '%' must be followed by two hex digits");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::pair<std::string, Query>> parse_target(std::string_view target) {
  if (target.empty()) return Status::invalid_argument("empty request target");
  if (target[0] != '/') {
    return Status::invalid_argument("request target \"" + printable(target) +
                                    "\" must start with '/' (origin form)");
  }
  const size_t qmark = target.find('?');
  const std::string_view raw_path = target.substr(0, qmark);
  const std::string_view raw_query = qmark == std::string_view::npos ? std::string_view{}
                                                                     : target.substr(qmark + 1);
  auto path = percent_decode(raw_path, /*plus_is_space=*/false);
  if (!path.ok()) return Status::invalid_argument("bad request path: " + path.status().message());
  for (const char c : *path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return Status::invalid_argument("request path \"" + printable(*path) +
                                      "\" contains a control character");
    }
  }
  if (const size_t n = version_prefix_length(*path); n > 0) {
    path->erase(0, n);
    if (path->empty()) *path = "/";
  }

  Query query;
  size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    const std::string_view pair = raw_query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
      if (!key.ok()) return Status::invalid_argument("bad query: " + key.status().message());
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
                                  /*plus_is_space=*/true);
      if (!value.ok()) return Status::invalid_argument("bad query: " + value.status().message());
      query.emplace(std::move(*key), std::move(*value));  // the first value of a key wins
    }
    start = end + 1;
  }
  return std::pair{std::move(*path), std::move(query)};
}

}  // namespace shoal::real
