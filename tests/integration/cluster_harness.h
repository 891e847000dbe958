// A cluster of real shoald processes on loopback for integration tests: each node gets its own
// data directory, cluster port and API socket under one temporary directory, which the harness
// removes with every process it started (by pid) when it goes out of scope.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "io_real/api/http_types.h"

namespace shoal::integration {

struct NodeProc {
  std::string name;
  std::string data_dir;
  std::string socket;
  std::string addr;         // 127.0.0.1:PORT
  std::string gossip_addr;  // 127.0.0.1:PORT, UDP and TCP, kept across restarts
  std::string log;   // its stdout + stderr
  int pid = -1;
};

class ClusterHarness {
 public:
  ClusterHarness();
  ~ClusterHarness();

  // Starts `shoald init`; returns the node once its API answers and the cluster is founded.
  NodeProc& init(const std::string& name, std::vector<std::string> extra = {});
  // Starts `shoald join --token T ADDR`; waits until it has joined (its API answers).
  NodeProc& join(const std::string& name, const std::string& token, const NodeProc& via);
  // Starts `shoald join` and returns at once (for joins that race each other).
  NodeProc& start_join(const std::string& name, const std::string& token, const NodeProc& via);
  // Waits until the node's API answers.
  bool wait_ready(const NodeProc& n) { return wait_api(n, std::chrono::seconds(20)); }
  // Runs `shoald join` expecting it to fail; returns its exit code and output.
  std::pair<int, std::string> join_expect_failure(const std::string& name, const std::string& token,
                                                  const std::string& addr);
  // Restarts a stopped node from its data directory.
  void restart(NodeProc& n, std::vector<std::string> extra = {});
  void kill(NodeProc& n, int sig);  // and reap it
  bool running(const NodeProc& n) const { return n.pid > 0; }

  // One API call; nullopt if the daemon did not answer.
  std::optional<real::HttpResponse> call(const NodeProc& n, const std::string& method, const std::string& target,
                                        const std::string& body = "");
  nlohmann::json get_json(const NodeProc& n, const std::string& target);
  // Runs the `shoal` CLI against a node; returns exit code and stdout+stderr.
  std::pair<int, std::string> cli(const NodeProc& n, const std::vector<std::string>& args);

  // The node's id, from /info.
  std::string node_id(const NodeProc& n);
  std::string manager_token(const NodeProc& n);
  std::string worker_token(const NodeProc& n);
  std::string read_log(const NodeProc& n) const;
  const std::string& dir() const { return dir_; }
  std::vector<std::unique_ptr<NodeProc>>& nodes() { return nodes_; }

 private:
  NodeProc& add(const std::string& name);
  void spawn(NodeProc& n, const std::vector<std::string>& args);
  bool wait_api(const NodeProc& n, std::chrono::milliseconds limit);

  std::string dir_;
  std::vector<std::unique_ptr<NodeProc>> nodes_;
};

// Polls pred every 20 ms until it holds or `limit` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit);
// A free TCP port on 127.0.0.1 (bound once with port 0, then released).
int free_port();
// Percent-encodes a query value (the API's `filters=` JSON).
std::string url_encode(const std::string& s);

}  // namespace shoal::integration
