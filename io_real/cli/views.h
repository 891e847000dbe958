// What the `shoal` CLI prints from the API's JSON, as the docker CLI prints it: the node table
// and --pretty view, the config/secret table and --pretty view, the join command and the unlock
// key text. Pure functions of their arguments (the clock comes in as `now_ns`); missing fields
// print as empty, never throw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shoal::cli {

// By Description.Hostname in natural order, then by ID (docker node ls).
void sort_nodes(std::vector<nlohmann::json>& nodes);
// MANAGER STATUS: "Leader", "Reachable", "Unreachable", or "" for a worker.
std::string manager_status_text(const nlohmann::json& node);
// The node ls table: ID (" *" marks `self_id`), HOSTNAME, STATUS, AVAILABILITY, MANAGER STATUS,
// ENGINE VERSION.
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

// swarm join-token's text: "To add a worker to this swarm, run the following command: ...".
std::string join_command_text(std::string_view role, std::string_view token, std::string_view manager_addr);
// swarm unlock-key's text around the key; "" for an empty key.
std::string unlock_key_text(std::string_view key);

}  // namespace shoal::cli
