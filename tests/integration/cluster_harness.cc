#include "tests/integration/cluster_harness.h"

#include <cctype>
#include <cstdio>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "io_real/api/http_client.h"

namespace shoal::integration {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

namespace {

bool can_bind(int type, int port) {
  const int fd = ::socket(AF_INET, type, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

// Ports come from below the kernel's ephemeral range (32768 and up by
// default), so no outgoing connection of a running node can take one between
// the moment it is chosen and the moment a node binds it. Each test process
// starts at its own offset and never hands out a port twice; a port must be
// free for TCP and UDP both, because gossip listens on both.
int free_port() {
  constexpr int kFirst = 20000;
  constexpr int kCount = 12000;
  static int next = static_cast<int>(::getpid() * 97 % kCount);
  for (int tries = 0; tries < kCount; ++tries) {
    const int port = kFirst + next;
    next = (next + 1) % kCount;
    if (can_bind(SOCK_STREAM, port) && can_bind(SOCK_DGRAM, port)) return port;
  }
  throw std::runtime_error("no free loopback port between 20000 and 32000");
}

ClusterHarness::ClusterHarness() {
  char tmpl[] = "/tmp/shoal-it-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
}

ClusterHarness::~ClusterHarness() {
  for (auto& n : nodes_) {
    if (n->pid > 0) kill(*n, SIGKILL);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

NodeProc& ClusterHarness::add(const std::string& name) {
  auto n = std::make_unique<NodeProc>();
  n->name = name;
  n->data_dir = dir_ + "/" + name;
  n->socket = dir_ + "/" + name + ".sock";
  n->addr = "127.0.0.1:" + std::to_string(free_port());
  n->gossip_addr = "127.0.0.1:" + std::to_string(free_port());
  n->log = dir_ + "/" + name + ".log";
  nodes_.push_back(std::move(n));
  return *nodes_.back();
}

void ClusterHarness::spawn(NodeProc& n, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {std::string(SHOAL_BIN_DIR) + "/shoald", "--data-dir", n.data_dir,
                                   "--listen-addr", n.addr, "--gossip-addr", n.gossip_addr, "--socket", n.socket,
                                   "--hostname", n.name};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(n.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> cargs;
    for (auto& a : argv) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    ::execv(cargs[0], cargs.data());
    ::_exit(127);
  }
  n.pid = pid;
}

bool ClusterHarness::wait_api(const NodeProc& n, std::chrono::milliseconds limit) {
  return eventually(
      [&] {
        int status = 0;
        if (::waitpid(n.pid, &status, WNOHANG) == n.pid) return true;  // exited: stop waiting
        auto r = call(n, "GET", "/info");
        return r && r->status == 200;
      },
      limit);
}

NodeProc& ClusterHarness::init(const std::string& name, std::vector<std::string> extra) {
  NodeProc& n = add(name);
  std::vector<std::string> args = {"init"};
  args.insert(args.end(), extra.begin(), extra.end());
  spawn(n, args);
  wait_api(n, 15s);
  eventually([&] { return call(n, "GET", "/swarm").value_or(real::HttpResponse{0, "", ""}).status == 200; }, 15s);
  return n;
}

NodeProc& ClusterHarness::join(const std::string& name, const std::string& token, const NodeProc& via) {
  NodeProc& n = add(name);
  spawn(n, {"join", "--token", token, via.addr});
  wait_api(n, 20s);
  return n;
}

NodeProc& ClusterHarness::start_join(const std::string& name, const std::string& token, const NodeProc& via) {
  NodeProc& n = add(name);
  spawn(n, {"join", "--token", token, via.addr});
  return n;
}

std::pair<int, std::string> ClusterHarness::join_expect_failure(const std::string& name, const std::string& token,
                                                                const std::string& addr) {
  NodeProc& n = add(name);
  spawn(n, {"join", "--token", token, addr});
  int status = 0;
  bool exited = eventually([&] { return ::waitpid(n.pid, &status, WNOHANG) == n.pid; }, 30s);
  if (!exited) {
    kill(n, SIGKILL);
    return {-1, read_log(n)};
  }
  n.pid = -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_log(n)};
}

void ClusterHarness::restart(NodeProc& n, std::vector<std::string> extra) {
  spawn(n, extra);
  wait_api(n, 15s);
}

void ClusterHarness::kill(NodeProc& n, int sig) {
  if (n.pid <= 0) return;
  ::kill(n.pid, sig);
  int status = 0;
  ::waitpid(n.pid, &status, 0);
  n.pid = -1;
}

std::optional<real::HttpResponse> ClusterHarness::call(const NodeProc& n, const std::string& method,
                                                      const std::string& target, const std::string& body) {
  auto r = real::http_call(n.socket, method, target, body, std::chrono::seconds(10));
  if (!r.ok()) return std::nullopt;
  return *r;
}

nlohmann::json ClusterHarness::get_json(const NodeProc& n, const std::string& target) {
  auto r = call(n, "GET", target);
  if (!r || r->status != 200) return nullptr;
  return nlohmann::json::parse(r->body, nullptr, false);
}

std::pair<int, std::string> ClusterHarness::cli(const NodeProc& n, const std::vector<std::string>& args) {
  const std::string out = dir_ + "/cli.out";
  std::string cmd = std::string(SHOAL_BIN_DIR) + "/shoal -H unix://" + n.socket;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " > " + out + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

std::string ClusterHarness::node_id(const NodeProc& n) {
  auto j = get_json(n, "/info");
  return j.is_object() ? j["Swarm"].value("NodeID", "") : "";
}

std::string ClusterHarness::manager_token(const NodeProc& n) {
  auto j = get_json(n, "/swarm");
  return j.is_object() ? j["JoinTokens"]["Manager"].get<std::string>() : "";
}

std::string ClusterHarness::worker_token(const NodeProc& n) {
  auto j = get_json(n, "/swarm");
  return j.is_object() ? j["JoinTokens"]["Worker"].get<std::string>() : "";
}

std::string ClusterHarness::read_log(const NodeProc& n) const {
  std::ifstream in(n.log);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace shoal::integration
