// shoal: the command-line client of a Shoal cluster. Everything is in io_real/cli/ (run_cli);
// this only wires the process's streams and environment to it.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "io_real/cli/cli.h"

int main(int argc, char** argv) {
  std::optional<std::string> env_host;
  if (const char* h = std::getenv("SHOAL_HOST"); h != nullptr && *h != '\0') env_host = h;
  const shoal::real::CliIo io{std::cout, std::cerr, std::cin, ::isatty(STDIN_FILENO) == 1, nullptr, nullptr};
  return shoal::real::run_cli(argc, argv, io, env_host);
}
