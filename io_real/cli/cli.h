// The `shoal` command-line client: docker's swarm commands, spoken to shoald's client API.
//
//   shoal [-H unix:///var/run/shoal.sock] info | version
//   shoal node ls|inspect|update|promote|demote|rm ...
//   shoal swarm join-token|leave|unlock|unlock-key|update|ca ...
//   shoal config|secret create|ls|inspect|rm ...
//   shoal service create|ls|ps|inspect|scale|rm|logs ...
//
// run_cli is the whole program behind main(): it parses the arguments (CLI11), runs the command
// against the daemon, writes the command's output to io.out and errors to io.err, and returns the
// exit code — 0, or 1 for a usage error ("Run with --help ...") or a failed command ("Error
// response from daemon: ..."). Everything it touches comes through CliIo, so tests run it whole
// against a fake daemon.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "core/env/time.h"

namespace shoal::real {

// The same version shoald reports in GET /version.
inline constexpr std::string_view kShoalVersion = "0.3.0";

struct CliIo {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool in_is_terminal = false;          // `swarm unlock` then prompts and turns echo off
  std::function<int64_t()> now_ns;      // wall clock, ns since the Unix epoch; null: the system clock
  std::function<void(Duration)> pause;  // between polls of `swarm ca --rotate`; null: sleep
};

// `env_host` is SHOAL_HOST (nullopt when unset); -H/--host wins over it, and it over the default.
int run_cli(int argc, const char* const* argv, const CliIo& io, std::optional<std::string> env_host);

}  // namespace shoal::real
