// The API server and client over real unix sockets in /tmp: round trips, keep-alive, the limits,
// malformed input, and the socket file's life (mode, stale file, live daemon, removal).
//
// Each test runs the server's io_context on one thread and talks to it from the test thread,
// with http_call or with a raw socket for bytes no well-behaved client would send. Every wait is
// bounded by a socket timeout; nothing sleeps to synchronize.
#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include "io_real/api/http_client.h"
#include "io_real/api/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

namespace shoal::real {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr Duration kCallTimeout = 10s;

std::string temp_socket_path(const char* name) {
  return "/tmp/shoal-api-test-" + std::to_string(::getpid()) + "-" + name + ".sock";
}

// A handler that answers with what it was asked.
void echo(HttpRequest req, Responder respond) {
  json j{{"method", req.method}, {"path", req.path}, {"query", req.query}, {"body_size", req.body.size()}};
  if (req.body.size() < 256) j["body"] = req.body;
  respond(json_response(200, j));
}

// A server on its own io_context thread. The server is built and listens before the thread
// starts, and is stopped on that thread, as its thread contract asks.
class ServerThread {
 public:
  explicit ServerThread(HttpServer::RequestHandler handler, HttpServerLimits limits = {})
      : work_(io_.get_executor()), server_(std::make_unique<HttpServer>(io_, std::move(handler), limits)) {}
  ~ServerThread() { shut_down(); }

  HttpServer& server() { return *server_; }
  void start() {
    thread_ = std::thread([this] { io_.run(); });
  }
  void shut_down() {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [this] { server_->stop(); });
    work_.reset();
    io_.stop();
    thread_.join();
    server_.reset();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

// A raw unix-socket client with a receive timeout, for bytes http_call would never send.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response (headers, then Content-Length bytes of body); empty on EOF or timeout.
  std::string read_response() {
    size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return {};
    }
    size_t length = 0;
    std::string lower = pending_.substr(0, header_end);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto at = lower.find("content-length:"); at != std::string::npos) {
      length = std::stoul(lower.substr(at + 15));
    }
    while (pending_.size() < header_end + 4 + length) {
      if (!fill()) return {};
    }
    std::string response = pending_.substr(0, header_end + 4 + length);
    pending_.erase(0, header_end + 4 + length);
    return response;
  }

  // True once the server has closed the connection (EOF), false on a timeout.
  bool closed_by_peer() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

std::string body_of(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_socket_path(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(HttpServerTest, RoundTripWithVersionPrefixQueryAndBody) {
  ServerThread st(echo);
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  auto r = http_call(path_, "POST", "/v1.41/nodes/abc/update?version=7&force=true", R"({"Role":"manager"})",
                     kCallTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "application/json");
  const json j = json::parse(r->body);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["path"], "/nodes/abc/update");
  EXPECT_EQ(j["query"]["version"], "7");
  EXPECT_EQ(j["query"]["force"], "true");
  EXPECT_EQ(j["body"], R"({"Role":"manager"})");
}

TEST_F(HttpServerTest, SocketIsCreatedWithMode0600AndRemovedOnStop) {
  ServerThread st(echo);
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  struct stat s {};
  ASSERT_EQ(::lstat(path_.c_str(), &s), 0);
  EXPECT_TRUE(S_ISSOCK(s.st_mode));
  EXPECT_EQ(s.st_mode & 0777, 0600u);
  st.start();
  st.shut_down();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  ServerThread st(echo);
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  RawClient c(path_);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send("GET /nodes?n=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string res = c.read_response();
    ASSERT_EQ(res.rfind("HTTP/1.1 200", 0), 0u) << res;
    EXPECT_EQ(json::parse(body_of(res))["query"]["n"], std::to_string(i));
  }
  // Two requests in one write (pipelined) are answered in order.
  ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(json::parse(body_of(c.read_response()))["path"], "/a");
  EXPECT_EQ(json::parse(body_of(c.read_response()))["path"], "/b");
  EXPECT_EQ(st.server().stats().connections_accepted, 1u);
  EXPECT_EQ(st.server().stats().requests, 5u);
  // Connection: close is honoured.
  ASSERT_TRUE(c.send("GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, MalformedRequestGets400AndTheServerServesTheNextClient) {
  ServerThread st(echo);
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  for (const char* garbage : {"GARBAGE\r\n\r\n", "GET /nodes HTTP/9.9\r\n\r\n", "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
                              "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  // a TLS hello
                              "POST /x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                              "GET /nodes%zz HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    RawClient c(path_);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(garbage));
    const std::string res = c.read_response();
    ASSERT_EQ(res.rfind("HTTP/1.1 400", 0), 0u) << "for " << garbage << ": " << res;
    const json j = json::parse(body_of(res));
    EXPECT_FALSE(j["message"].get<std::string>().empty());
    EXPECT_TRUE(c.closed_by_peer());
  }
  auto r = http_call(path_, "GET", "/info", "", kCallTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(st.server().stats().bad_requests, 6u);
}

TEST_F(HttpServerTest, ClientThatHangsUpMidRequestIsForgotten) {
  ServerThread st(echo);
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  {
    RawClient c(path_);
    ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly some"));
  }
  auto r = http_call(path_, "GET", "/info", "", kCallTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, BodyOverTheLimitGets413EvenWhileTheClientIsStillSending) {
  ServerThread st(echo);  // default limit: 2 MiB
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  auto ok = http_call(path_, "POST", "/configs/create", std::string(size_t{2} << 20, 'a'), kCallTimeout);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->status, 200) << "exactly the limit is allowed";
  EXPECT_EQ(json::parse(ok->body)["body_size"], size_t{2} << 20);

  auto big = http_call(path_, "POST", "/configs/create", std::string(size_t{3} << 20, 'a'), kCallTimeout);
  ASSERT_TRUE(big.ok()) << big.status().message();
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(json::parse(big->body)["message"].get<std::string>().find("2097152 bytes"), std::string::npos);
  EXPECT_EQ(st.server().stats().too_large, 1u);

  // Chunked bodies are held to the same limit.
  RawClient c(path_);
  ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk(64 * 1024, 'b');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  for (int i = 0; i < 40 && c.send(std::string(size_line) + chunk + "\r\n"); ++i) {
  }
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 413", 0), 0u);

  auto after = http_call(path_, "GET", "/info", "", kCallTimeout);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);
}

TEST_F(HttpServerTest, HeaderOverTheLimitGets431) {
  HttpServerLimits limits;
  limits.max_header_bytes = 1024;
  ServerThread st(echo, limits);
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  RawClient c(path_);
  ASSERT_TRUE(c.send("GET /x HTTP/1.1\r\nX-Big: " + std::string(4096, 'h') + "\r\n\r\n"));
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 431", 0), 0u);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  ServerThread st(echo);
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  RawClient c(path_);
  ASSERT_TRUE(c.send("POST /configs/create HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 100", 0), 0u);
  ASSERT_TRUE(c.send("hello"));
  const std::string res = c.read_response();
  ASSERT_EQ(res.rfind("HTTP/1.1 200", 0), 0u) << res;
  EXPECT_EQ(json::parse(body_of(res))["body"], "hello");
}

TEST_F(HttpServerTest, HandlerMayAnswerLaterFromAnotherThread) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Responder> saved;
  ServerThread st([&](HttpRequest, Responder respond) {
    std::lock_guard lock(mu);
    saved = std::move(respond);
    cv.notify_all();
  });
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  std::thread committer([&] {  // stands in for the Raft apply loop
    std::unique_lock lock(mu);
    if (cv.wait_for(lock, 10s, [&] { return saved.has_value(); })) (*saved)(json_response(201, json{{"ID", "c1"}}));
  });
  auto r = http_call(path_, "POST", "/configs/create", "{}", kCallTimeout);
  committer.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(json::parse(r->body)["ID"], "c1");
}

TEST_F(HttpServerTest, HandlerThatNeverAnswersGets503AfterItsDeadline) {
  HttpServerLimits limits;
  limits.handler_timeout = 200ms;
  std::vector<Responder> kept;  // touched only on the server thread
  ServerThread st([&](HttpRequest, Responder respond) { kept.push_back(std::move(respond)); }, limits);
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  auto r = http_call(path_, "POST", "/swarm/update", "{}", kCallTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("may still take effect"), std::string::npos) << r->body;
  EXPECT_EQ(st.server().stats().handler_timeouts, 1u);
  st.shut_down();
}

TEST_F(HttpServerTest, HandlerThatDropsItsResponderGets500) {
  ServerThread st([](HttpRequest, Responder) {});
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  auto r = http_call(path_, "GET", "/info", "", kCallTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(st.server().stats().dropped_responders, 1u);
}

TEST_F(HttpServerTest, RouterBehindTheServerAnswers404And405) {
  Router router;
  router.add("GET", "/nodes", [](const HttpRequest&, const PathParams&, Responder respond) {
    respond(json_response(200, json::array()));
  });
  ServerThread st([&](HttpRequest req, Responder respond) { router.dispatch(std::move(req), std::move(respond)); });
  ASSERT_TRUE(st.server().listen_unix(path_).ok());
  st.start();
  auto ok = http_call(path_, "GET", "/v1.41/nodes", "", kCallTimeout);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  auto missing = http_call(path_, "GET", "/v1.41/services", "", kCallTimeout);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["message"], "page not found");
  auto wrong = http_call(path_, "DELETE", "/nodes", "", kCallTimeout);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405);
}

TEST_F(HttpServerTest, StaleSocketFileIsReplaced) {
  // A socket file bound by a process that is gone: nobody listens, connect is refused.
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path_));
  ServerThread st(echo);
  const Status s = st.server().listen_unix(path_);
  ASSERT_TRUE(s.ok()) << s.message();
  st.start();
  auto r = http_call(path_, "GET", "/info", "", kCallTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, LiveDaemonOnTheSocketIsNotReplaced) {
  ServerThread first(echo);
  ASSERT_TRUE(first.server().listen_unix(path_).ok());
  first.start();
  ServerThread second(echo);
  const Status s = second.server().listen_unix(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("another daemon is already listening on unix://" + path_), std::string::npos)
      << s.message();
  second.start();
  second.shut_down();  // must not remove the first one's socket file
  auto r = http_call(path_, "GET", "/info", "", kCallTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, RefusesToReplaceSomethingThatIsNotASocket) {
  { std::ofstream(path_) << "precious"; }
  ServerThread st(echo);
  const Status s = st.server().listen_unix(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("not a socket"), std::string::npos);
  std::ifstream in(path_);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(HttpServerTest, MissingDirectoryIsAClearError) {
  ServerThread st(echo);
  const Status s = st.server().listen_unix("/nonexistent-shoal-dir/shoal.sock");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-shoal-dir/shoal.sock"), std::string::npos) << s.message();
}

TEST_F(HttpServerTest, PlainTcpOnLoopback) {
  ServerThread st(echo);
  ASSERT_TRUE(st.server().listen_tcp("127.0.0.1:0").ok());
  const uint16_t port = st.server().tcp_port();
  ASSERT_NE(port, 0);
  st.start();
  auto r = http_call_tcp("127.0.0.1:" + std::to_string(port), "GET", "/v1.41/version", "", kCallTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(json::parse(r->body)["path"], "/version");
}

TEST(HttpClient, MissingSocketIsAnActionableError) {
  auto r = http_call("/tmp/shoal-api-test-no-such.sock", "GET", "/info", "", kCallTimeout);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(),
            "cannot connect to the Shoal daemon at unix:///tmp/shoal-api-test-no-such.sock: no such file — is "
            "shoald running?");
}

TEST(HttpClient, RefusedSocketIsAnActionableError) {
  const std::string path = temp_socket_path("refused");
  std::filesystem::remove(path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  auto r = http_call(path, "GET", "/info", "", kCallTimeout);
  std::filesystem::remove(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("connection refused — is shoald running?"), std::string::npos)
      << r.status().message();
}

TEST(HttpClient, SilentDaemonHitsTheDeadline) {
  const std::string path = temp_socket_path("silent");
  std::filesystem::remove(path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);  // accepts into the backlog, never answers
  auto r = http_call(path, "GET", "/info", "", 200ms);
  ::close(fd);
  std::filesystem::remove(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find("within 200ms"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace shoal::real
