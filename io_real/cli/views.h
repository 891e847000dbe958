// What the `shoal` CLI prints from the API's JSON, as the docker CLI prints it: the node table
// and --pretty view, the config/secret table and --pretty view, the service and task tables and
// the service --pretty view, the join command and the unlock key text. Pure functions of their
// arguments (the clock comes in as `now_ns`); missing fields print as empty, never throw.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shoal::real {

// By Description.Hostname in natural order, then by ID (docker node ls).
void sort_nodes(std::vector<nlohmann::json>& nodes);
// MANAGER STATUS: "Leader", "Reachable", "Unreachable", or "" for a worker.
std::string manager_status_text(const nlohmann::json& node);
// The node ls table: ID (" *" marks `self_id`), HOSTNAME, STATUS, AVAILABILITY, MANAGER STATUS,
// ENGINE VERSION, and GOSSIP (the answering node's gossip view) when any node has one.
std::string node_table(const std::vector<nlohmann::json>& nodes, std::string_view self_id);
// node inspect --pretty of one node, without a trailing newline.
std::string node_pretty(const nlohmann::json& node);

// By Spec.Name in natural order (docker config ls / secret ls).
void sort_by_name(std::vector<nlohmann::json>& objects);
// config ls: ID, NAME, CREATED, UPDATED; secret ls adds DRIVER after NAME. Times read "2 hours ago".
std::string object_table(const std::vector<nlohmann::json>& objects, bool is_secret, int64_t now_ns);
// config/secret inspect --pretty, without a trailing newline. A config shows its decoded data; a
// secret never shows data.
std::string object_pretty(const nlohmann::json& object, bool is_secret);

// ---- services and tasks (docker service ls / ps / inspect --pretty) ----

// docker's stringid.TruncateID: the first 12 characters of an id.
std::string short_id(std::string_view id);
// What a task template runs, on one line: ContainerSpec.Command, then Args, space-separated.
std::string command_text(const nlohmann::json& task_template);
// "replicated" or "global".
std::string service_mode(const nlohmann::json& service);
// service ls's REPLICAS: ServiceStatus's "running/desired", and " (max N per node)" for a
// replicated service with Placement.MaxReplicas.
std::string replicas_text(const nlohmann::json& service);
// The service ls table: ID (short), NAME, MODE, REPLICAS, COMMAND. Docker's columns are ID NAME
// MODE REPLICAS IMAGE PORTS; a Shoal service runs a command, not an image, and publishes no
// ports, so COMMAND (cut to 40 characters) takes IMAGE's place and PORTS is left out.
std::string service_table(const std::vector<nlohmann::json>& services);
// service inspect --pretty of one service, without a trailing newline (docker's template, with a
// Command line and a RestartPolicy section since that is what a Shoal service is made of):
// UpdateStatus (State, Started "2 minutes ago" from `now_ns`, Completed, Message) once an update
// began, UpdateConfig and RollbackConfig, and the ContainerSpec's Healthcheck.
std::string service_pretty(const nlohmann::json& service, int64_t now_ns);

// A task's name as the docker CLI makes it: "<service name>.<slot>", or "<service name>.<node
// id>" for a global service's task. `service_names` maps service ids to names (an unknown id
// names itself).
std::string task_name(const nlohmann::json& task, const std::map<std::string, std::string>& service_names);
// The service ps table: ID, NAME, COMMAND, NODE, DESIRED STATE, CURRENT STATE, ERROR (docker's,
// COMMAND for IMAGE and without PORTS). Tasks are sorted by name (natural order), newest first
// within a name; the older tasks of a name are history, shown as " \_ web.1". NODE is the node's
// hostname from `node_names` (else its id); CURRENT STATE reads "Running 5 seconds ago". With
// `trunc`, ids are short and errors and commands are cut, as docker does without --no-trunc.
std::string task_table(std::vector<nlohmann::json> tasks, const std::map<std::string, std::string>& service_names,
                       const std::map<std::string, std::string>& node_names, int64_t now_ns, bool trunc);
// The same order, for -q.
void sort_tasks(std::vector<nlohmann::json>& tasks, const std::map<std::string, std::string>& service_names);

// swarm join-token's text: "To add a worker to this swarm, run the following command: ...".
std::string join_command_text(std::string_view role, std::string_view token, std::string_view manager_addr);
// swarm unlock-key's text around the key; "" for an empty key.
std::string unlock_key_text(std::string_view key);

}  // namespace shoal::real
