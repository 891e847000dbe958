// The agent's agent.logs handler, driven by hand: the agent serves it on its Rpc as it is made,
// and the test calls the served handler directly, as a manager's call would arrive.
#include <gtest/gtest.h>

#include <map>

#include "core/agent/agent.h"
#include "tests/core/manual_env.h"

namespace shoal {
namespace {

using test::ManualClock;
using test::ManualTimers;
using test::NoDisk;
using test::NoTransport;

// Keeps what is served; calls go nowhere (no manager answers, which these tests do not need).
class ServedRpc final : public Rpc {
 public:
  void serve(std::string method, RpcAccess access, Handler handler) override {
    served[method] = {access, std::move(handler)};
  }
  void call(NodeId, std::string, std::string, Duration, Reply) override {}
  std::map<std::string, std::pair<RpcAccess, Handler>> served;
};

// A runtime that only keeps output, per task.
class LogsRuntime final : public Runtime {
 public:
  void set_event_handler(std::function<void(const TaskEvent&)>) override {}
  Status start(const TaskRunSpec&) override { return {}; }
  void stop(const std::string&) override {}
  void remove(const std::string&) override {}
  Result<std::string> logs(const std::string& id, size_t max_bytes) const override {
    asked_max = max_bytes;
    auto it = output.find(id);
    if (it == output.end()) return Status::not_found("no task " + id);
    return it->second.substr(it->second.size() - std::min(max_bytes, it->second.size()));
  }
  Status check_health(const std::string& id, const HealthCheckSpec&,
                      std::function<void(const HealthCheckResult&)>) override {
    return Status::not_found("no task " + id);
  }
  std::map<std::string, std::string> output;
  mutable size_t asked_max = 0;
};

struct Answer {
  Status status;
  std::string data;
};

class AgentLogsTest : public ::testing::Test {
 protected:
  AgentLogsTest() : timers_(clock_), rng_(1), env_{clock_, timers_, rng_, transport_, disk_, log_} {
    agent::AgentOptions opts;
    opts.hostname = "w1";
    agent_ = std::make_unique<agent::Agent>(env_, rpc_, runtime_, [] { return std::vector<NodeId>{}; }, opts);
  }

  Answer ask(const std::string& body) {
    auto it = rpc_.served.find(agent::kLogsMethod);
    EXPECT_NE(it, rpc_.served.end());
    Answer a;
    bool answered = false;
    PeerIdentity manager{1, NodeRole::kManager, "c"};
    it->second.second(&manager, body, [&](Status s, std::string reply) {
      answered = true;
      a.status = s;
      agentpb::LogsResponse resp;
      if (s.ok()) {
        EXPECT_TRUE(resp.ParseFromString(reply));
        a.data = resp.data();
      }
    });
    EXPECT_TRUE(answered) << "the handler answers at once";
    return a;
  }
  Answer ask(const std::string& task, uint64_t max_bytes, uint64_t tail) {
    agentpb::LogsRequest req;
    req.set_task_id(task);
    req.set_max_bytes(max_bytes);
    req.set_tail_lines(tail);
    return ask(req.SerializeAsString());
  }

  ManualClock clock_;
  ManualTimers timers_;
  Rng rng_;
  NoTransport transport_;
  NoDisk disk_;
  test::RecordingLogSink log_sink_;
  Log log_{clock_, log_sink_};
  Env env_;
  ServedRpc rpc_;
  LogsRuntime runtime_;
  std::unique_ptr<agent::Agent> agent_;
};

TEST_F(AgentLogsTest, ServedToManagersOnly) {
  ASSERT_TRUE(rpc_.served.count(agent::kLogsMethod));
  EXPECT_EQ(rpc_.served[agent::kLogsMethod].first, RpcAccess::kManagerOnly);
}

TEST_F(AgentLogsTest, AnswersWhatTheRuntimeKept) {
  runtime_.output["t1"] = "one\ntwo\nthree\n";
  Answer a = ask("t1", 0, 0);
  ASSERT_TRUE(a.status.ok()) << a.status.to_string();
  EXPECT_EQ(a.data, "one\ntwo\nthree\n");
  EXPECT_EQ(runtime_.asked_max, agent::kMaxLogBytes) << "0 asks for as much as a node keeps";
}

TEST_F(AgentLogsTest, TailKeepsTheLastLinesAndMaxBytesIsCapped) {
  runtime_.output["t1"] = "one\ntwo\nthree\nfour";  // the last line is not finished yet
  EXPECT_EQ(ask("t1", 0, 2).data, "three\nfour");
  EXPECT_EQ(ask("t1", 0, 10).data, "one\ntwo\nthree\nfour");
  EXPECT_EQ(ask("t1", 6, 0).data, "e\nfour");
  Answer a = ask("t1", uint64_t{1} << 40, 1);
  EXPECT_EQ(a.data, "four");
  EXPECT_EQ(runtime_.asked_max, agent::kMaxLogBytes) << "never more than a node keeps";
}

TEST_F(AgentLogsTest, AnUnknownTaskOrABadRequestIsAnError) {
  Answer a = ask("nope", 0, 0);
  EXPECT_EQ(a.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(a.status.message(), "task nope has no logs on node w1");
  EXPECT_EQ(ask("", 0, 0).status.code(), StatusCode::kInvalidArgument) << "no task named";
  EXPECT_EQ(ask(std::string("\xff\xff\xff", 3)).status.code(), StatusCode::kInvalidArgument) << "does not parse";
}

TEST_F(AgentLogsTest, AGoneAgentAnswersUnavailable) {
  runtime_.output["t1"] = "x\n";
  auto handler = rpc_.served[agent::kLogsMethod].second;
  agent_.reset();
  Status got;
  handler(nullptr, "", [&](Status s, std::string) { got = s; });
  EXPECT_EQ(got.code(), StatusCode::kUnavailable);
}

TEST(LastLines, CountsLinesFromTheEnd) {
  EXPECT_EQ(agent::last_lines("a\nb\nc\n", 0), "a\nb\nc\n");
  EXPECT_EQ(agent::last_lines("a\nb\nc\n", 1), "c\n");
  EXPECT_EQ(agent::last_lines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(agent::last_lines("a\nb\nc\n", 3), "a\nb\nc\n");
  EXPECT_EQ(agent::last_lines("a\nb\nc\n", 4), "a\nb\nc\n");
  EXPECT_EQ(agent::last_lines("a\nb\nc", 1), "c");
  EXPECT_EQ(agent::last_lines("a\n\n", 1), "\n") << "an empty line is a line";
  EXPECT_EQ(agent::last_lines("", 3), "");
  EXPECT_EQ(agent::last_lines("\n", 1), "\n");
}

}  // namespace
}  // namespace shoal
