#include "core/ca/join_token.h"

#include <algorithm>
#include <vector>

namespace shoal::ca {

std::string base36_encode(const uint8_t* bytes, size_t size, size_t width) {
  // Repeated division of the big-endian number by 36; each remainder is the next digit.
  std::vector<uint8_t> n(bytes, bytes + size);
  std::string digits;
  auto is_zero = [&] { return std::all_of(n.begin(), n.end(), [](uint8_t b) { return b == 0; }); };
  while (!is_zero()) {
    unsigned rem = 0;
    for (auto& b : n) {
      const unsigned cur = (rem << 8) | b;
      b = static_cast<uint8_t>(cur / 36);
      rem = cur % 36;
    }
    digits.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[rem]);
  }
  if (digits.size() < width) digits.append(width - digits.size(), '0');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Status base36_decode(std::string_view digits, uint8_t* out, size_t out_size) {
  std::fill(out, out + out_size, 0);
  for (char c : digits) {
    unsigned d;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'z') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return Status::invalid_argument("'" + std::string(1, c) + "' is not a base-36 digit");
    }
    // out = out * 36 + d, from the least significant byte up; a carry out of the top overflows.
    unsigned carry = d;
    for (size_t i = out_size; i-- > 0;) {
      const unsigned cur = out[i] * 36u + carry;
      out[i] = static_cast<uint8_t>(cur & 0xff);
      carry = cur >> 8;
    }
    if (carry != 0) return Status::invalid_argument("value does not fit in " + std::to_string(out_size) + " bytes");
  }
  return {};
}

std::string format_join_token(const JoinToken& t) {
  return std::string(kJoinTokenPrefix) + "-" + std::to_string(kJoinTokenVersion) + "-" +
         base36_encode(t.ca_digest.data(), t.ca_digest.size(), kDigestChars) + "-" +
         base36_encode(t.secret.data(), t.secret.size(), kSecretChars);
}

Result<JoinToken> parse_join_token(std::string_view text) {
  const std::string hint = " (a join token looks like SWMTKN-1-<50 characters>-<25 characters>; "
                           "get one with `shoal swarm join-token worker` on a manager)";
  if (text.size() > 200) return Status::invalid_argument("join token is far too long" + hint);
  if (text.substr(0, kJoinTokenPrefix.size() + 1) != std::string(kJoinTokenPrefix) + "-") {
    return Status::invalid_argument("not a join token: it does not start with SWMTKN-" + hint);
  }
  text.remove_prefix(kJoinTokenPrefix.size() + 1);
  const auto dash1 = text.find('-');
  if (dash1 == std::string_view::npos) return Status::invalid_argument("join token has no version" + hint);
  if (text.substr(0, dash1) != std::to_string(kJoinTokenVersion)) {
    return Status::invalid_argument("join token version '" + std::string(text.substr(0, dash1)) +
                                    "' is not supported (this node reads version 1)");
  }
  text.remove_prefix(dash1 + 1);
  const auto dash2 = text.find('-');
  if (dash2 == std::string_view::npos) return Status::invalid_argument("join token has no secret" + hint);
  const std::string_view digest = text.substr(0, dash2);
  const std::string_view secret = text.substr(dash2 + 1);
  if (digest.size() != kDigestChars) {
    return Status::invalid_argument("join token's CA digest has " + std::to_string(digest.size()) +
                                    " characters, not 50" + hint);
  }
  if (secret.size() != kSecretChars) {
    return Status::invalid_argument("join token's secret has " + std::to_string(secret.size()) +
                                    " characters, not 25" + hint);
  }
  JoinToken t;
  if (Status s = base36_decode(digest, t.ca_digest.data(), t.ca_digest.size()); !s.ok()) {
    return Status::invalid_argument("join token's CA digest is malformed: " + s.message());
  }
  if (Status s = base36_decode(secret, t.secret.data(), t.secret.size()); !s.ok()) {
    return Status::invalid_argument("join token's secret is malformed: " + s.message());
  }
  return t;
}

bool secrets_equal(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b) {
  uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace shoal::ca
