// A stand-in daemon for CLI tests: an HttpServer and a Router on a unix socket in /tmp, run on a
// thread of its own, that records every request it gets (method, path, query, JSON body), so a
// test can check exactly what a command sent. The test adds its routes, then start()s it.
//
//   RecordingServer server("cli-test");
//   server.router().add("GET", "/nodes", ...);
//   server.start();
//   run_cli({"-H", server.host(), "node", "ls"}, out, err);
//   EXPECT_EQ(server.lines(), (std::vector<std::string>{"GET /v1.41/nodes"}));
#pragma once

#include <utility>  // before Asio (Boost 1.74 with GCC 12 in C++20)

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "io_real/api/http_server.h"
#include "io_real/api/router.h"

namespace shoal::real::test {

struct Sent {
  std::string method;
  std::string path;
  real::Query query;
  nlohmann::json body;
  std::string line() const {
    std::string q;
    for (const auto& [k, v] : query) q += (q.empty() ? "?" : "&") + k + "=" + v;
    return method + " " + path + q;
  }
};

class RecordingServer {
 public:
  explicit RecordingServer(const std::string& name)
      : path_("/tmp/shoal-" + name + "-" + std::to_string(::getpid()) + ".sock"), work_(io_.get_executor()) {}
  ~RecordingServer() {
    if (thread_.joinable()) {
      boost::asio::post(io_, [this] { server_->stop(); });
      work_.reset();
      io_.stop();
      thread_.join();
    }
    server_.reset();
    std::filesystem::remove(path_);
  }
  RecordingServer(const RecordingServer&) = delete;
  RecordingServer& operator=(const RecordingServer&) = delete;

  // Add routes before start().
  real::Router& router() { return router_; }
  void start() {
    std::filesystem::remove(path_);
    server_ = std::make_unique<real::HttpServer>(io_, [this](real::HttpRequest req, real::Responder respond) {
      {
        std::lock_guard lock(mu_);
        sent_.push_back({req.method, req.path, req.query, nlohmann::json::parse(req.body.empty() ? "null" : req.body)});
      }
      router_.dispatch(std::move(req), std::move(respond));
    });
    EXPECT_TRUE(server_->listen_unix(path_).ok());
    thread_ = std::thread([this] { io_.run(); });
  }

  std::string host() const { return "unix://" + path_; }
  std::vector<Sent> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::vector<std::string> lines() {
    std::vector<std::string> out;
    for (const auto& s : sent()) out.push_back(s.line());
    return out;
  }
  size_t count(const std::string& method, const std::string& path) {
    size_t n = 0;
    for (const auto& s : sent()) n += s.method == method && s.path == path;
    return n;
  }

 private:
  std::string path_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  real::Router router_;
  std::unique_ptr<real::HttpServer> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Sent> sent_;
};

}  // namespace shoal::real::test
