// What the command groups of the `shoal` CLI share (internal to io_real/cli/): the run context,
// JSON field access that tolerates missing fields, and each group's registration function.
//
// A command's CLI11 callback calls Context::run with its body; the body returns a Status, which
// run_cli prints (its message, verbatim) and turns into exit code 1.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/env/status.h"
#include "io_real/cli/api_client.h"
#include "io_real/cli/cli.h"

namespace CLI {
class App;
}

namespace shoal::real {

// The largest config or secret data the CLI reads from a file or stdin before sending it.
inline constexpr size_t kMaxObjectDataBytes = size_t{1} << 20;

struct Context {
  explicit Context(const CliIo& io_in) : io(io_in) {}
  const CliIo& io;
  std::string host;
  Duration timeout = std::chrono::seconds(150);  // above the daemon's 120 s handler deadline
  Status result;

  int64_t now_ns() const;
  void pause(Duration d) const;
  // Connects (parses the host), runs `body`, stores its Status in `result`.
  void run(const std::function<Status(const ApiClient&)>& body);
};

// Field access by path; a missing field or one of another type reads as ""/0/false/null.
std::string str_at(const nlohmann::json& j, std::initializer_list<std::string_view> path);
int64_t int_at(const nlohmann::json& j, std::initializer_list<std::string_view> path);
bool bool_at(const nlohmann::json& j, std::initializer_list<std::string_view> path);
const nlohmann::json& at(const nlohmann::json& j, std::initializer_list<std::string_view> path);

// JSON as `docker inspect` prints it: an array, four-space indent, then a newline.
std::string inspect_json(const nlohmann::json& array);

// Reads a whole file, or stdin for "-", at most kMaxObjectDataBytes.
Result<std::string> read_data_file(const Context& ctx, const std::string& file);

// Parses -l/--label values "k=v" (or "k", an empty value) into a JSON object.
nlohmann::json labels_json(const std::vector<std::string>& labels);

// docker's --filter values "key=value" as the API's filters JSON: {"key": ["value", ...]}.
Result<nlohmann::json> filters_json(const std::vector<std::string>& filters);

// Prints the tasks the API lists for `filters` as `service ps` does (only ids if `quiet`);
// service_names maps service ids to names.
Status print_tasks(Context& ctx, const ApiClient& client, const nlohmann::json& filters,
                   const std::map<std::string, std::string>& service_names, bool quiet, bool no_trunc);

// Reads a key from stdin: prompted without echo on a terminal, else the first line, trimmed.
std::string read_key(const Context& ctx, std::string_view prompt);

// Waits until every task of the service that should run is running, printing docker's progress
// lines unless `quiet` (the wait of `service create`, `service scale`, `service update`,
// `service rollback` and `stack deploy`; see service.cc). deadline_exceeded after `timeout`.
// For an update or a rollback (`what`), only tasks of the current spec count, and the service's
// UpdateStatus decides: done once it is completed (or rollback_completed) and every task runs;
// paused or rollback_paused fail with its message ("service update paused: update paused due to
// ..."); an update the updater rolled back prints "rollback: <why>", waits for the rollback to
// converge, then fails ("service rolled back: <why>"). When the message names a failed task, that
// task's error is added: "... early termination of task ID (task: unhealthy container)".
enum class WaitFor { kConverged, kUpdate, kRollback };
struct WaitOptions {
  bool quiet = false;
  Duration timeout = std::chrono::seconds(60);
  WaitFor what = WaitFor::kConverged;
};
Status wait_converged(Context& ctx, const ApiClient& client, const std::string& service_id, const WaitOptions& opts);

void add_system_commands(CLI::App& app, Context& ctx);
void add_node_commands(CLI::App& app, Context& ctx);
void add_swarm_commands(CLI::App& app, Context& ctx);
void add_config_commands(CLI::App& app, Context& ctx);
void add_secret_commands(CLI::App& app, Context& ctx);
void add_service_commands(CLI::App& app, Context& ctx);
void add_stack_commands(CLI::App& app, Context& ctx);

// Configs and secrets share their commands; secrets never show data.
struct StoredObjectKind {
  std::string noun;        // "config" / "secret"
  std::string collection;  // "/configs" / "/secrets"
  bool is_secret = false;
};
void add_stored_object_commands(CLI::App& app, Context& ctx, const StoredObjectKind& kind);

}  // namespace shoal::real
