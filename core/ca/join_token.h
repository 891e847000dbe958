// JoinToken: the secret a node presents to join a cluster, in Docker Swarm's format.
//
//   SWMTKN-1-<digest>-<secret>
//
// <digest> is the SHA-256 digest of the cluster's root CA certificate, written in base 36 and
// zero-padded to 50 characters; <secret> is 16 random bytes, base 36, padded to 25 characters.
// A joining node checks the CA certificate a manager shows it against the digest before it sends
// anything secret, so a man in the middle is refused. There is one token for managers and one for
// workers; rotating a token changes its secret. Parsing never trusts its input: every malformed
// token gets an error saying what is wrong with it. Pure logic (hashing is the caller's).
//
//   JoinToken t{digest_of_root_ca, random_secret};
//   std::string s = format_join_token(t);          // "SWMTKN-1-3pu6hszjas19...-1awxwuwd3z9j..."
//   auto parsed = parse_join_token(s);             // Result<JoinToken>
//   if (parsed.ok() && secrets_equal(parsed->secret, expected)) admit();
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/env/status.h"

namespace shoal::ca {

inline constexpr std::string_view kJoinTokenPrefix = "SWMTKN";
inline constexpr int kJoinTokenVersion = 1;
inline constexpr size_t kDigestChars = 50;  // base 36 digits for 256 bits
inline constexpr size_t kSecretChars = 25;  // base 36 digits for 128 bits

struct JoinToken {
  std::array<uint8_t, 32> ca_digest{};  // SHA-256 of the root CA certificate (DER)
  std::array<uint8_t, 16> secret{};
  bool operator==(const JoinToken&) const = default;
};

std::string format_join_token(const JoinToken& token);
Result<JoinToken> parse_join_token(std::string_view text);

// Compares secrets in time independent of where they differ.
bool secrets_equal(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b);

// Big-endian bytes <-> lowercase base 36, zero-padded to `width` digits. Decoding fails on a
// character outside [0-9a-z] or a value that does not fit in `out_size` bytes.
std::string base36_encode(const uint8_t* bytes, size_t size, size_t width);
Status base36_decode(std::string_view digits, uint8_t* out, size_t out_size);

}  // namespace shoal::ca
