// The README's "A cluster by hand" runs as written: its `shoald init` and `shoald join` lines are
// read from README.md, their loopback ports and /tmp paths swapped for free ports and this test's
// temporary directory, the join token taken from the README's `shoal swarm join-token manager`,
// and the two managers must form a cluster. Options stay exactly where the README puts them
// (after the subcommand).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "tests/integration/cluster_harness.h"

namespace shoal::integration {
namespace {
using namespace std::chrono_literals;

// The lines of the ```sh block under "## A cluster by hand", with `\` continuations joined.
std::vector<std::string> cluster_by_hand_lines(const std::string& readme_path) {
  std::ifstream in(readme_path);
  std::vector<std::string> lines;
  std::string line;
  bool in_section = false;
  bool in_block = false;
  std::string pending;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      in_section = line == "## A cluster by hand";
      continue;
    }
    if (!in_section) continue;
    if (line.rfind("```", 0) == 0) {
      if (in_block) break;
      in_block = true;
      continue;
    }
    if (!in_block) continue;
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1);
      continue;
    }
    lines.push_back(pending + line);
    pending.clear();
  }
  return lines;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Rewrites a README command for this test: `build/bin/` becomes the built binaries' directory,
// each 127.0.0.1 port a free port (the same README port always the same free one), `/tmp/` the
// test's directory (also inside `unix:///tmp/...`), `SWMTKN-1-...` the real token; a trailing
// `&` and a `# comment` are dropped.
class Rewriter {
 public:
  Rewriter(std::string dir, std::string token) : dir_(std::move(dir)), token_(std::move(token)) {}
  std::vector<std::string> operator()(const std::vector<std::string>& in) {
    static const std::regex kLoopback(R"(127\.0\.0\.1:(\d+))");
    std::vector<std::string> out;
    for (std::string w : in) {
      if (w.rfind("#", 0) == 0) break;  // a shell comment
      if (w == "&") continue;
      if (w.rfind("build/bin/", 0) == 0) w = std::string(SHOAL_BIN_DIR) + "/" + w.substr(10);
      if (const auto tmp = w.find("/tmp/"); tmp != std::string::npos) w.replace(tmp, 5, dir_ + "/");
      if (w.rfind("SWMTKN-1-", 0) == 0) w = token_;
      std::smatch m;
      if (std::regex_match(w, m, kLoopback)) {
        auto [it, fresh] = ports_.try_emplace(m[1].str(), 0);
        if (fresh) it->second = free_port();
        w = "127.0.0.1:" + std::to_string(it->second);
      }
      out.push_back(w);
    }
    return out;
  }
  void set_token(std::string token) { token_ = std::move(token); }

 private:
  std::string dir_;
  std::string token_;
  std::map<std::string, int> ports_;
};

std::string flag_value(const std::vector<std::string>& argv, const std::string& flag) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return "";
}

// Starts a README shoald command as a node of `h` (so the harness kills it at the end).
NodeProc& start(ClusterHarness& h, const std::string& name, const std::vector<std::string>& argv) {
  auto n = std::make_unique<NodeProc>();
  n->name = name;
  n->data_dir = flag_value(argv, "--data-dir");
  n->socket = flag_value(argv, "--socket");
  n->addr = flag_value(argv, "--listen-addr");
  n->gossip_addr = flag_value(argv, "--gossip-addr");
  n->log = h.dir() + "/" + name + ".log";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(n->log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<std::string> args = argv;
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    ::execv(cargs[0], cargs.data());
    ::_exit(127);
  }
  n->pid = pid;
  h.nodes().push_back(std::move(n));
  return *h.nodes().back();
}

int managers_listed(ClusterHarness& h, const NodeProc& n) {
  auto nodes = h.get_json(n, "/nodes");
  if (!nodes.is_array()) return 0;
  int count = 0;
  for (const auto& node : nodes) count += node.contains("ManagerStatus") ? 1 : 0;
  return count;
}

TEST(ReadmeTest, ClusterByHandInitAndJoinAsWritten) {
  const auto lines = cluster_by_hand_lines(std::string(SHOAL_SOURCE_DIR) + "/README.md");
  std::vector<std::string> init_line;
  std::vector<std::string> join_line;
  std::vector<std::string> token_line;
  for (const auto& l : lines) {
    const auto w = words(l);
    if (w.size() < 2) continue;
    if (w[0] == "build/bin/shoald" && w[1] == "init") init_line = w;
    if (w[0] == "build/bin/shoald" && w[1] == "join") join_line = w;
    if (w[0] == "build/bin/shoal" && l.find("swarm join-token manager") != std::string::npos) token_line = w;
  }
  ASSERT_FALSE(init_line.empty()) << "no `build/bin/shoald init` in the README's cluster by hand";
  ASSERT_FALSE(join_line.empty()) << "no `build/bin/shoald join` in the README's cluster by hand";
  ASSERT_FALSE(token_line.empty()) << "no `shoal ... swarm join-token manager` in the README's cluster by hand";

  ClusterHarness h;
  Rewriter rewrite(h.dir(), "");
  NodeProc& m1 = start(h, "m1", rewrite(init_line));
  ASSERT_FALSE(m1.socket.empty()) << "the README's init names no --socket";
  ASSERT_TRUE(h.wait_ready(m1)) << h.read_log(m1);
  ASSERT_TRUE(eventually([&] { return h.get_json(m1, "/swarm").is_object(); }, 15s)) << h.read_log(m1);

  // The README's `shoal -H unix:///tmp/m1.sock swarm join-token manager`, which prints the
  // join command with the token.
  auto cli = rewrite(token_line);
  std::string cmd;
  for (const auto& a : cli) cmd += "'" + a + "' ";
  cmd += "2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (size_t got = std::fread(buf, 1, sizeof buf, p)) out.append(buf, got);
    ::pclose(p);
  }
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(SWMTKN-1-[0-9a-z]+-[0-9a-z]+)"))) << cmd << "\n" << out;
  rewrite.set_token(m[0].str());

  NodeProc& m2 = start(h, "m2", rewrite(join_line));
  ASSERT_TRUE(h.wait_ready(m2)) << h.read_log(m2);
  EXPECT_TRUE(h.running(m2) && ::kill(m2.pid, 0) == 0) << "the README's join exited:\n" << h.read_log(m2);
  EXPECT_TRUE(eventually([&] { return managers_listed(h, m2) == 2; }, 20s)) << h.read_log(m1) << h.read_log(m2);
  EXPECT_EQ(h.node_id(m1).empty(), false);
  EXPECT_NE(h.node_id(m1), h.node_id(m2));
}

}  // namespace
}  // namespace shoal::integration
