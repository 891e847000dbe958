#include "io_real/cli/cli.h"

#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "io_real/cli/commands.h"
#include "io_real/cli/format.h"

namespace shoal::real {

int64_t Context::now_ns() const {
  if (io.now_ns) return io.now_ns();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Context::pause(Duration d) const {
  if (io.pause) return io.pause(d);
  std::this_thread::sleep_for(d);
}

void Context::run(const std::function<Status(const ApiClient&)>& body) {
  auto client = ApiClient::connect(host, timeout);
  if (!client.ok()) {
    result = client.status();
    return;
  }
  result = body(*client);
}

const nlohmann::json& at(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
  static const nlohmann::json kNull;
  const nlohmann::json* cur = &j;
  for (const std::string_view key : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(key);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string str_at(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
  const auto& v = at(j, path);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t int_at(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
  const auto& v = at(j, path);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_float()) return static_cast<int64_t>(v.get<double>());
  return 0;
}

bool bool_at(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
  const auto& v = at(j, path);
  return v.is_boolean() && v.get<bool>();
}

std::string inspect_json(const nlohmann::json& array) {
  return array.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<std::string> read_data_file(const Context& ctx, const std::string& file) {
  std::string data;
  auto too_big = [&] {
    return Status::invalid_argument("Error reading content from \"" + file + "\": larger than " +
                                    std::to_string(kMaxObjectDataBytes) + " bytes");
  };
  auto slurp = [&](std::istream& in) -> Status {
    char buf[64 * 1024];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      data.append(buf, static_cast<size_t>(in.gcount()));
      if (data.size() > kMaxObjectDataBytes) return too_big();
    }
    return Status::ok_status();
  };
  if (file == "-") {
    if (Status s = slurp(ctx.io.in); !s.ok()) return s;
    return data;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::invalid_argument("Error reading content from \"" + file + "\": open " + file + ": " +
                                    std::strerror(errno));
  }
  if (Status s = slurp(in); !s.ok()) return s;
  return data;
}

nlohmann::json labels_json(const std::vector<std::string>& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& l : labels) {
    const size_t eq = l.find('=');
    out[l.substr(0, eq)] = eq == std::string::npos ? std::string() : l.substr(eq + 1);
  }
  return out;
}

std::string read_key(const Context& ctx, std::string_view prompt) {
  std::string line;
  if (ctx.io.in_is_terminal) {
    ctx.io.out << prompt << std::flush;
    termios old{};
    const bool restore = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (restore) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::getline(ctx.io.in, line);
    if (restore) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    ctx.io.out << "\n";
  } else {
    std::getline(ctx.io.in, line);
  }
  return trim(line);
}

int run_cli(int argc, const char* const* argv, const CliIo& io, std::optional<std::string> env_host) {
  Context ctx(io);
  ctx.host = env_host && !env_host->empty() ? *env_host : std::string(kDefaultHost);

  CLI::App app{"shoal: the command-line client of a Shoal cluster, speaking to shoald's API", "shoal"};
  app.add_option("-H,--host", ctx.host,
                 "Daemon socket to connect to: unix:///path or tcp://host:port (env SHOAL_HOST)")
      ->default_str(std::string(kDefaultHost));
  app.require_subcommand(1);
  add_system_commands(app, ctx);
  add_node_commands(app, ctx);
  add_swarm_commands(app, ctx);
  add_config_commands(app, ctx);
  add_secret_commands(app, ctx);
  add_service_commands(app, ctx);
  add_stack_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, io.out, io.err) == 0 ? 0 : 1;
  }
  if (!ctx.result.ok()) {
    io.err << ctx.result.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace shoal::real
