// A Compose file read as `docker stack deploy` reads one, into the ServiceSpecs (Docker Engine API
// JSON, as shoald's POST /services/create takes them) of one stack.
//
// What a Shoal service can be, a stack file can say; everything is parsed and checked before
// anything is sent, so a bad file deploys nothing:
//   version                      ignored (any version)
//   services.NAME                one service, named "<stack>_NAME" and labelled
//                                com.docker.stack.namespace=<stack> (Docker's stack naming)
//     command                    a string (split as a shell splits words, without expansion) or a
//                                list -> ContainerSpec.Args
//     entrypoint                 the same -> ContainerSpec.Command; the task runs entrypoint then
//                                command. One of the two is required: the process runtime has no
//                                image to take a command from.
//     image                      kept in ContainerSpec.Image for Docker's shape; never run
//     environment                a map (a null value: "KEY" alone) or a list of "KEY=value"; sorted
//     working_dir                ContainerSpec.Dir
//     stop_grace_period          a Go duration ("10s") -> ContainerSpec.StopGracePeriod
//     healthcheck                test (a string runs in a shell: ["CMD-SHELL", s]; a list as
//                                written), interval, timeout, retries, start_period, disable
//                                (["NONE"]) -> ContainerSpec.Healthcheck
//     deploy.mode                replicated (default) | global
//     deploy.replicas            replicated services only
//     deploy.labels              service labels (a map or a list of "k=v")
//     deploy.placement           constraints (checked as the scheduler parses them), preferences
//                                ([{spread: node.labels.zone}]), max_replicas_per_node
//     deploy.resources           reservations and limits: cpus ("0.5") and memory ("50M", bytes)
//     deploy.restart_policy      condition (none|on-failure|any), delay, max_attempts, window
//     deploy.update_config       parallelism, delay, failure_action (pause|continue|rollback),
//     deploy.rollback_config     monitor, max_failure_ratio, order (stop-first|start-first)
//                                -> UpdateConfig / RollbackConfig; absent fields keep Docker's
//                                defaults. A redeploy that changes a service rolls it by these.
// Keys a Compose file may have but a Shoal service cannot honour (ports, networks, volumes,
// healthcheck.start_interval, a service's own `labels`, which Docker puts on containers and Shoal tasks do not
// have, ...) and top-level networks/volumes/secrets/configs are ignored with one warning, as Docker
// words it: "Ignoring unsupported options: networks, ports". Extension keys ("x-...") are ignored
// silently. A key Compose does not know at all is an error (it is most likely a typo). There is no
// ${VARIABLE} substitution: values are taken as written.
//
// Errors name the file and the field, with the service in the field's path:
//   "stack.yml: services.web.deploy.restart_policy.delay: invalid duration \"5 secs\" ..."
//
//   auto stack = parse_stack_file(text, "stack.yml", "shop");
//   for (const auto& w : stack->warnings) err << w << "\n";
//   for (const auto& s : stack->services) client.post("/services/create", s.spec);
//
// Pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/env/status.h"

namespace shoal::real {

// The label Docker puts on every object of a stack, holding the stack's name.
inline constexpr std::string_view kStackNamespaceLabel = "com.docker.stack.namespace";

struct StackService {
  std::string name;     // as in the file: "web"
  nlohmann::json spec;  // the ServiceSpec; Spec.Name is "<stack>_web"
};

struct StackFile {
  std::vector<StackService> services;  // by name
  std::vector<std::string> warnings;   // lines to show the user (without newline)
};

// `file` names the source in errors; `stack` is the stack's name (checked here too).
Result<StackFile> parse_stack_file(std::string_view yaml_text, std::string_view file, std::string_view stack);

// A stack name Docker (and a service name built from it) accepts: [a-zA-Z0-9] then runs of
// [-_]* and [a-zA-Z0-9]+. The error says why not.
Status validate_stack_name(std::string_view stack);

// Splits a command line into words as a POSIX shell does, without expansion: blanks separate
// words; '...' is literal; "..." is literal but for \" \\ \$ \` and backslash-newline; outside
// quotes a backslash takes the next character literally (backslash-newline joins lines).
// Errors: an unterminated quote, a trailing backslash.
Result<std::vector<std::string>> split_shell_words(std::string_view text);

}  // namespace shoal::real
