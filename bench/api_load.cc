// shoal_bench_load: the load generator of bench/vs_etcd.sh, which runs a three-manager Shoal
// cluster and a three-member etcd cluster side by side on loopback.
//
// The same load goes to both systems: every request is one synced, replicated write of a new
// key with a 100-byte value.
//   Shoal  POST /v1.41/configs/create {"Name": "<unique>", "Data": base64(100 bytes)} -> 201,
//          over the daemon's unix socket.
//   etcd   POST /v3/kv/put {"key": base64("<unique>"), "value": base64(100 bytes)} -> 200,
//          etcd v3's JSON gateway over TCP.
// Each client is one kept-alive HTTP/1.1 connection, sending its next request when the previous
// one is answered (closed loop); all clients run on one thread (asynchronous I/O), so the load
// generator takes little of the CPUs the servers share with it. Client i talks to member
// i mod (members).
//
// Modes (each prints `name: value` lines on stdout; diagnostics go to stderr):
//   load SYSTEM --target T [--target T ...] --clients N --seconds S [--warmup-seconds W]
//        writes per second, p50/p99/max latency in ms, over the S seconds after W of warm-up.
//   failover SYSTEM --target T [--target T ...] --kill-pid PID
//        probes the surviving members (the targets) with a new write every --interval-ms, on a
//        fresh connection each, until each answers; then sends SIGKILL to PID itself and reports
//        failover_s: the time from the kill to the first acknowledged write sent after it.
//   leader SYSTEM --target T --target T --target T
//        exits 0 and prints `leader: INDEX` (0-based into the targets) when every member answers
//        and all agree on one leader (Shoal: /nodes lists as many reachable managers as targets);
//        exits 1 otherwise.
//   get SYSTEM --target T --path PATH [--field A.B.C]
//        GET (Shoal) or POST {} (etcd) PATH and print the body, or the string at the dotted field
//        (e.g. `get shoal --target S --path /v1.41/swarm --field JoinTokens.Manager`).
// SYSTEM is `shoal` (targets are unix socket paths) or `etcd` (targets are 127.0.0.1:PORT).
//
// Limits: at most 256 clients, 600 s per run, 1,000,000 latencies kept per client (later ones
// are counted but not kept), 64 probes in flight per member (the oldest is dropped when full),
// a failover run gives up after --timeout-seconds (default 30).
#include <utility>  // Boost 1.74 with GCC 12 in C++20 needs <utility> before any Asio header.

#include <signal.h>
#include <sys/types.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr int kMaxClients = 256;
constexpr double kMaxSeconds = 600;
constexpr size_t kMaxLatenciesPerClient = 1'000'000;
constexpr size_t kMaxProbesInFlightPerTarget = 64;
constexpr size_t kValueBytes = 100;
constexpr auto kRequestTimeout = std::chrono::seconds(10);

enum class System { kShoal, kEtcd };

std::string b64(std::string_view raw) {
  std::string out(beast::detail::base64::encoded_size(raw.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), raw.data(), raw.size()));
  return out;
}

// 100 printable bytes, different per client so no layer can deduplicate them.
std::string value_for(int client) {
  std::string v(kValueBytes, 'x');
  uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(client + 1);
  for (char& c : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>('a' + x % 26);
  }
  return v;
}

struct Request {
  std::string target;
  std::string body;
};

// One write of a new key: `name` is unique for the whole run.
Request write_request(System sys, const std::string& name, const std::string& value_b64) {
  if (sys == System::kShoal) {
    return {"/v1.41/configs/create", R"({"Name":")" + name + R"(","Data":")" + value_b64 + R"("})"};
  }
  return {"/v3/kv/put", R"({"key":")" + b64(name) + R"(","value":")" + value_b64 + R"("})"};
}

bool write_ok(System sys, int status) { return sys == System::kShoal ? status == 201 : status == 200; }

// The request every client sends: HTTP/1.1, kept alive, a JSON body when there is one.
http::request<http::string_body> make_request(System sys, const std::string& target, const std::string& method,
                                              const std::string& path, const std::string& body) {
  http::request<http::string_body> req;
  req.version(11);
  req.method_string(method);
  req.target(path);
  req.set(http::field::host, sys == System::kShoal ? "localhost" : target);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  return req;
}

// A target's address: a unix socket path (Shoal) or 127.0.0.1:PORT (etcd).
template <typename Protocol>
typename Protocol::endpoint endpoint_for(const std::string& target);

// ---- one kept-alive HTTP/1.1 connection, used synchronously by one thread ----

struct Answer {
  int status = 0;  // 0: no HTTP answer (see error)
  std::string body;
  std::string error;
};

class Conn {
 public:
  Conn(System sys, std::string target) : sys_(sys), target_(std::move(target)) {}

  Answer call(const std::string& method, const std::string& path, const std::string& body) {
    try {
      return sys_ == System::kShoal ? call_on(unix_, path, method, body) : call_on(tcp_, path, method, body);
    } catch (const std::exception& e) {
      unix_.reset();
      tcp_.reset();
      return {0, "", e.what()};
    }
  }

 private:
  template <typename Protocol>
  Answer call_on(std::unique_ptr<beast::basic_stream<Protocol>>& stream, const std::string& path,
                 const std::string& method, const std::string& body) {
    io_.restart();
    if (!stream) {
      stream = std::make_unique<beast::basic_stream<Protocol>>(io_);
      buffer_.clear();
      error_code cec;
      stream->expires_after(kRequestTimeout);
      stream->async_connect(endpoint_for<Protocol>(target_), [&](error_code ec) { cec = ec; });
      io_.run();
      io_.restart();
      if (cec) {
        stream.reset();
        return {0, "", "connect " + target_ + ": " + cec.message()};
      }
    }
    http::request<http::string_body> req = make_request(sys_, target_, method, path, body);
    http::response<http::string_body> res;
    error_code wec;
    error_code rec;
    stream->expires_after(kRequestTimeout);
    http::async_write(*stream, req, [&](error_code ec, size_t) {
      wec = ec;
      if (ec) return;
      http::async_read(*stream, buffer_, res, [&](error_code ec2, size_t) { rec = ec2; });
    });
    io_.run();
    if (wec || rec) {
      stream.reset();
      return {0, "", target_ + ": " + (wec ? "write: " + wec.message() : "read: " + rec.message())};
    }
    if (!res.keep_alive()) stream.reset();
    return {static_cast<int>(res.result_int()), std::move(res.body()), ""};
  }

  System sys_;
  std::string target_;
  asio::io_context io_;
  beast::flat_buffer buffer_;
  std::unique_ptr<beast::basic_stream<asio::local::stream_protocol>> unix_;
  std::unique_ptr<beast::basic_stream<asio::ip::tcp>> tcp_;
};

asio::ip::tcp::endpoint tcp_endpoint(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("want HOST:PORT, got " + host_port);
  return {asio::ip::make_address(host_port.substr(0, colon)),
          static_cast<unsigned short>(std::stoi(host_port.substr(colon + 1)))};
}

template <>
asio::local::stream_protocol::endpoint endpoint_for<asio::local::stream_protocol>(const std::string& target) {
  return asio::local::stream_protocol::endpoint(target);
}
template <>
asio::ip::tcp::endpoint endpoint_for<asio::ip::tcp>(const std::string& target) {
  return tcp_endpoint(target);
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The q-quantile (0..1) of `v`, nearest rank; v is reordered.
double quantile(std::vector<double>& v, double q) {
  if (v.empty()) return NAN;
  size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  k = std::clamp<size_t>(k, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Error texts, counted, for stderr; bounded to 20 distinct texts.
class ErrorLog {
 public:
  void add(std::string text) {
    std::lock_guard lock(mu_);
    if (text.size() > 200) text.resize(200);
    if (counts_.size() < 20 || counts_.count(text)) ++counts_[text];
    else ++other_;
  }
  void print(const char* what) {
    std::lock_guard lock(mu_);
    for (const auto& [text, n] : counts_) std::cerr << what << ": " << n << " x " << text << "\n";
    if (other_) std::cerr << what << ": " << other_ << " x (other errors)\n";
  }

 private:
  std::mutex mu_;
  std::map<std::string, uint64_t> counts_;
  uint64_t other_ = 0;
};

std::string answer_text(const Answer& a) {
  if (a.status == 0) return a.error;
  return "HTTP " + std::to_string(a.status) + " " + a.body;
}

// ---- load ----

struct PerClient {
  std::vector<double> latencies_ms;
  uint64_t writes = 0;        // acknowledged inside the window
  uint64_t writes_total = 0;  // acknowledged at all, warm-up included
  uint64_t errors = 0;
};

struct Window {
  Clock::time_point start;
  Clock::time_point end;
};

// One client of the closed loop: one kept-alive connection and one request in flight, the next
// sent when the last is answered. Every client runs on one shared io_context driven by one
// thread: 64 blocking threads, one per client, took about an eighth of this two-CPU machine and
// made every server wake-up queue behind them, for both systems alike.
template <typename Protocol>
class LoopClient {
 public:
  LoopClient(asio::io_context& io, System sys, typename Protocol::endpoint ep, std::string host, int c,
             const std::string& run_id, PerClient& me, ErrorLog& errors, const Window& window)
      : io_(io), sys_(sys), ep_(std::move(ep)), host_(std::move(host)), value_(b64(value_for(c))),
        prefix_("bench-" + run_id + "-" + std::to_string(c) + "-"), me_(me), errors_(errors), window_(window),
        pause_(io) {
    me_.latencies_ms.reserve(std::min<size_t>(kMaxLatenciesPerClient, 200'000));
  }

  // Opens the connection and sends one GET that writes nothing, before the clock starts.
  void open(std::function<void()> done) {
    call("GET", sys_ == System::kShoal ? "/_ping" : "/health", "", [done = std::move(done)](const Answer&) { done(); });
  }

  void run() {
    t0_ = Clock::now();
    if (t0_ >= window_.end) return;
    const Request r = write_request(sys_, prefix_ + std::to_string(seq_++), value_);
    call("POST", r.target, r.body, [this](const Answer& a) { on_answer(a); });
  }

 private:
  void on_answer(const Answer& a) {
    const Clock::time_point t1 = Clock::now();
    const bool in_window = t0_ >= window_.start && t1 <= window_.end;
    if (write_ok(sys_, a.status)) {
      ++me_.writes_total;
      if (in_window) {
        ++me_.writes;
        if (me_.latencies_ms.size() < kMaxLatenciesPerClient) me_.latencies_ms.push_back(ms(t1 - t0_));
      }
      return run();
    }
    ++me_.errors;
    errors_.add(answer_text(a));
    pause_.expires_after(std::chrono::milliseconds(10));  // no busy loop on a dead member
    pause_.async_wait([this](error_code) { run(); });
  }

  void connect(std::function<void(bool)> then) {
    stream_ = std::make_unique<beast::basic_stream<Protocol>>(io_);
    buffer_.clear();
    stream_->expires_after(kRequestTimeout);
    stream_->async_connect(ep_, [this, then = std::move(then)](error_code ec) {
      if (ec) {
        stream_.reset();
        errors_.add("connect " + host_ + ": " + ec.message());
      }
      then(!ec);
    });
  }

  void call(const char* method, const std::string& path, const std::string& body,
            std::function<void(const Answer&)> done) {
    if (!stream_) {
      return connect([this, method, path, body, done = std::move(done)](bool ok) mutable {
        if (!ok) return done(Answer{0, "", "connect " + host_ + " failed"});
        call(method, path, body, std::move(done));
      });
    }
    req_ = make_request(sys_, host_, method, path, body);
    res_ = {};
    stream_->expires_after(kRequestTimeout);
    http::async_write(*stream_, req_, [this, done = std::move(done)](error_code ec, size_t) mutable {
      if (ec) return fail("write: " + ec.message(), done);
      http::async_read(*stream_, buffer_, res_, [this, done = std::move(done)](error_code ec2, size_t) {
        if (ec2) return fail("read: " + ec2.message(), done);
        if (!res_.keep_alive()) stream_.reset();
        done(Answer{static_cast<int>(res_.result_int()), std::move(res_.body()), ""});
      });
    });
  }

  void fail(const std::string& what, const std::function<void(const Answer&)>& done) {
    stream_.reset();
    done(Answer{0, "", host_ + ": " + what});
  }

  asio::io_context& io_;
  System sys_;
  typename Protocol::endpoint ep_;
  std::string host_;
  std::string value_;
  std::string prefix_;
  PerClient& me_;
  ErrorLog& errors_;
  const Window& window_;
  asio::steady_timer pause_;
  std::unique_ptr<beast::basic_stream<Protocol>> stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  Clock::time_point t0_;
  uint64_t seq_ = 0;
};

template <typename Protocol>
void drive_clients(System sys, const std::vector<std::string>& targets, int clients, double seconds,
                   double warmup_seconds, const std::string& run_id, std::vector<PerClient>& per, ErrorLog& errors) {
  asio::io_context io;
  Window window;
  std::vector<std::unique_ptr<LoopClient<Protocol>>> loop;
  for (int c = 0; c < clients; ++c) {
    const std::string& target = targets[static_cast<size_t>(c) % targets.size()];
    loop.push_back(std::make_unique<LoopClient<Protocol>>(io, sys, endpoint_for<Protocol>(target), target, c, run_id,
                                                          per[static_cast<size_t>(c)], errors, window));
  }
  // Every connection open first; then the clock starts and every client sends its first write.
  int opened = 0;
  for (auto& client : loop) {
    client->open([&] {
      if (++opened < clients) return;
      window.start = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup_seconds));
      window.end = window.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
      for (auto& c : loop) c->run();
    });
  }
  io.run();
}

int run_load(System sys, const std::vector<std::string>& targets, int clients, double seconds,
             double warmup_seconds, const std::string& run_id) {
  std::vector<PerClient> per(static_cast<size_t>(clients));
  ErrorLog errors;
  if (sys == System::kShoal) {
    drive_clients<asio::local::stream_protocol>(sys, targets, clients, seconds, warmup_seconds, run_id, per, errors);
  } else {
    drive_clients<asio::ip::tcp>(sys, targets, clients, seconds, warmup_seconds, run_id, per, errors);
  }

  std::vector<double> all;
  uint64_t writes = 0;
  uint64_t writes_total = 0;
  uint64_t errs = 0;
  for (auto& p : per) {
    writes += p.writes;
    writes_total += p.writes_total;
    errs += p.errors;
    all.insert(all.end(), p.latencies_ms.begin(), p.latencies_ms.end());
  }
  errors.print("error");
  const double mean = all.empty() ? NAN : [&] {
    double s = 0;
    for (double x : all) s += x;
    return s / static_cast<double>(all.size());
  }();
  std::printf("clients: %d\nseconds: %.1f\nwrites: %llu\nerrors: %llu\nwrites_per_s: %.0f\n", clients, seconds,
              static_cast<unsigned long long>(writes), static_cast<unsigned long long>(errs),
              static_cast<double>(writes) / seconds);
  std::printf("writes_total: %llu\n", static_cast<unsigned long long>(writes_total));
  std::printf("mean_ms: %.3f\np50_ms: %.3f\np99_ms: %.3f\n", mean, quantile(all, 0.50), quantile(all, 0.99));
  std::printf("p999_ms: %.3f\nmax_ms: %.3f\n", quantile(all, 0.999), all.empty() ? NAN : *std::max_element(all.begin(), all.end()));
  return writes > 0 ? 0 : 1;
}

// ---- failover ----

// Open-loop prober on one io_context thread: every interval, one new write per target, each on
// a new connection. Records the first acknowledged write sent at or after `kill_at`.
class Prober {
 public:
  Prober(System sys, std::vector<std::string> targets, std::chrono::milliseconds interval, std::string run_id)
      : sys_(sys), targets_(std::move(targets)), interval_(interval), run_id_(std::move(run_id)),
        value_(b64(value_for(0))), timer_(io_), ok_per_target_(targets_.size(), 0),
        in_flight_(targets_.size()) {}

  // Probes until every target acknowledged one write, then kills `pid`, then probes until the
  // first acknowledged write sent after the kill. Returns the failover time, or nothing when
  // `timeout` passed first.
  std::optional<double> run(pid_t pid, std::chrono::seconds timeout, std::chrono::milliseconds settle) {
    const Clock::time_point deadline = Clock::now() + timeout;
    tick();
    // Phase 1: every survivor acknowledges writes; then `settle` more of steady probing.
    while (Clock::now() < deadline &&
           !std::all_of(ok_per_target_.begin(), ok_per_target_.end(), [](uint64_t n) { return n > 0; })) {
      io_.run_for(std::chrono::milliseconds(10));
    }
    if (Clock::now() >= deadline) {
      std::cerr << "failover: the survivors never acknowledged a write before the kill\n";
      return std::nullopt;
    }
    io_.run_for(settle);
    failed_before_kill_ = failed_;
    kill_at_ = Clock::now();
    if (::kill(pid, SIGKILL) != 0) {
      std::perror("failover: kill");
      return std::nullopt;
    }
    killed_ = true;
    while (!first_ok_after_kill_ && Clock::now() < deadline + timeout) io_.run_for(std::chrono::milliseconds(5));
    stopping_ = true;
    timer_.cancel();
    for (auto& q : in_flight_) {
      for (auto& w : q) {
        if (auto p = w.lock()) p->close();
      }
    }
    io_.run_for(std::chrono::milliseconds(200));
    if (!first_ok_after_kill_) return std::nullopt;
    return secs(*first_ok_after_kill_ - kill_at_);
  }

  uint64_t sent_after_kill() const { return sent_after_kill_; }
  uint64_t failed_after_kill() const { return failed_ - failed_before_kill_; }
  uint64_t dropped() const { return dropped_; }
  ErrorLog& errors() { return errors_; }
  const std::string& first_ok_target() const { return first_ok_target_; }

 private:
  struct Probe {
    explicit Probe(asio::io_context& io) : unix_stream(io), tcp_stream(io) {}
    void close() {
      error_code ec;
      unix_stream.socket().close(ec);
      tcp_stream.socket().close(ec);
    }
    beast::basic_stream<asio::local::stream_protocol> unix_stream;
    beast::basic_stream<asio::ip::tcp> tcp_stream;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    Clock::time_point sent;
    size_t target = 0;
  };

  void tick() {
    if (stopping_) return;
    for (size_t t = 0; t < targets_.size(); ++t) start_probe(t);
    timer_.expires_after(interval_);
    timer_.async_wait([this](error_code ec) {
      if (!ec) tick();
    });
  }

  void start_probe(size_t t) {
    auto& q = in_flight_[t];
    while (!q.empty() && q.front().expired()) q.pop_front();
    if (q.size() >= kMaxProbesInFlightPerTarget) {  // full: drop the oldest
      if (auto p = q.front().lock()) p->close();
      q.pop_front();
      ++dropped_;
    }
    auto p = std::make_shared<Probe>(io_);
    p->target = t;
    p->sent = Clock::now();
    if (killed_) ++sent_after_kill_;
    const Request r = write_request(sys_, "probe-" + run_id_ + "-" + std::to_string(seq_++), value_);
    p->req.version(11);
    p->req.method(http::verb::post);
    p->req.target(r.target);
    p->req.set(http::field::host, sys_ == System::kShoal ? "localhost" : targets_[t]);
    p->req.set(http::field::content_type, "application/json");
    p->req.keep_alive(false);
    p->req.body() = r.body;
    p->req.prepare_payload();
    q.push_back(p);
    if (sys_ == System::kShoal) {
      send(p, p->unix_stream, asio::local::stream_protocol::endpoint(targets_[t]));
    } else {
      send(p, p->tcp_stream, tcp_endpoint(targets_[t]));
    }
  }

  template <typename Stream, typename Endpoint>
  void send(std::shared_ptr<Probe> p, Stream& stream, Endpoint ep) {
    stream.expires_after(kRequestTimeout);
    stream.async_connect(ep, [this, p, &stream](error_code ec) {
      if (ec) return done(p, {0, "", "connect: " + ec.message()});
      http::async_write(stream, p->req, [this, p, &stream](error_code ec2, size_t) {
        if (ec2) return done(p, {0, "", "write: " + ec2.message()});
        http::async_read(stream, p->buffer, p->res, [this, p](error_code ec3, size_t) {
          if (ec3) return done(p, {0, "", "read: " + ec3.message()});
          done(p, {static_cast<int>(p->res.result_int()), p->res.body(), ""});
        });
      });
    });
  }

  void done(const std::shared_ptr<Probe>& p, const Answer& a) {
    p->close();
    if (stopping_) return;
    const Clock::time_point now = Clock::now();
    if (write_ok(sys_, a.status)) {
      ++ok_per_target_[p->target];
      if (killed_ && p->sent >= kill_at_ && !first_ok_after_kill_) {
        first_ok_after_kill_ = now;
        first_ok_target_ = targets_[p->target];
      }
    } else {
      ++failed_;
      if (killed_) errors_.add(answer_text(a));
    }
  }

  System sys_;
  std::vector<std::string> targets_;
  std::chrono::milliseconds interval_;
  std::string run_id_;
  std::string value_;
  asio::io_context io_;
  asio::steady_timer timer_;
  std::vector<uint64_t> ok_per_target_;
  std::vector<std::deque<std::weak_ptr<Probe>>> in_flight_;
  uint64_t seq_ = 0;
  uint64_t failed_ = 0;
  uint64_t failed_before_kill_ = 0;
  uint64_t sent_after_kill_ = 0;
  uint64_t dropped_ = 0;
  bool killed_ = false;
  bool stopping_ = false;
  Clock::time_point kill_at_;
  std::optional<Clock::time_point> first_ok_after_kill_;
  std::string first_ok_target_;
  ErrorLog errors_;
};

int run_failover(System sys, const std::vector<std::string>& targets, pid_t pid, int interval_ms, int timeout_s,
                 int settle_ms, const std::string& run_id) {
  Prober prober(sys, targets, std::chrono::milliseconds(interval_ms), run_id);
  const auto result = prober.run(pid, std::chrono::seconds(timeout_s), std::chrono::milliseconds(settle_ms));
  prober.errors().print("failed probe after the kill");
  std::printf("probes_sent_after_kill: %llu\nprobes_failed_after_kill: %llu\nprobes_dropped: %llu\n",
              static_cast<unsigned long long>(prober.sent_after_kill()),
              static_cast<unsigned long long>(prober.failed_after_kill()),
              static_cast<unsigned long long>(prober.dropped()));
  if (!result) {
    std::printf("failover_s: nan\n");
    return 1;
  }
  std::printf("first_ok_member: %s\nfailover_s: %.3f\n", prober.first_ok_target().c_str(), *result);
  return 0;
}

// ---- leader ----

std::optional<json> get_json(Conn& c, const std::string& method, const std::string& path, const std::string& body) {
  const Answer a = c.call(method, path, body);
  if (a.status != 200) {
    std::cerr << "leader: " << path << ": " << answer_text(a) << "\n";
    return std::nullopt;
  }
  try {
    return json::parse(a.body);
  } catch (const std::exception& e) {
    std::cerr << "leader: " << path << ": not JSON: " << e.what() << "\n";
    return std::nullopt;
  }
}

int run_leader(System sys, const std::vector<std::string>& targets) {
  try {
    std::vector<std::string> ids;      // each member's own id
    std::vector<std::string> leaders;  // the leader each member names
    for (const auto& t : targets) {
      Conn c(sys, t);
      if (sys == System::kShoal) {
        auto info = get_json(c, "GET", "/v1.41/info", "");
        if (!info) return 1;
        ids.push_back((*info)["Swarm"].value("NodeID", ""));
        auto nodes = get_json(c, "GET", "/v1.41/nodes", "");
        if (!nodes) return 1;
        std::string leader;
        size_t reachable = 0;
        for (const auto& n : *nodes) {
          if (!n.contains("ManagerStatus")) continue;
          const auto& ms = n["ManagerStatus"];
          if (ms.value("Reachability", "") == "reachable") ++reachable;
          if (ms.value("Leader", false)) leader = n.value("ID", "");
        }
        if (reachable != targets.size()) {
          std::cerr << "leader: " << t << " sees " << reachable << " reachable managers\n";
          return 1;
        }
        leaders.push_back(leader);
      } else {
        auto st = get_json(c, "POST", "/v3/maintenance/status", "{}");
        if (!st) return 1;
        ids.push_back((*st)["header"].value("member_id", ""));
        leaders.push_back(st->value("leader", ""));
      }
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      if (leaders[i].empty() || leaders[i] != leaders[0]) {
        std::cerr << "leader: members do not agree on a leader yet\n";
        return 1;
      }
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      if (ids[i] == leaders[0]) {
        std::printf("leader: %zu\n", i);
        return 0;
      }
    }
    std::cerr << "leader: the leader " << leaders[0] << " is none of the targets\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "leader: " << e.what() << "\n";
    return 1;
  }
}

int run_get(System sys, const std::string& target, const std::string& path, const std::string& field) {
  Conn c(sys, target);
  const Answer a = sys == System::kShoal ? c.call("GET", path, "") : c.call("POST", path, "{}");
  if (a.status != 200) {
    std::cerr << "get: " << path << ": " << answer_text(a) << "\n";
    return 1;
  }
  if (field.empty()) {
    std::printf("%s\n", a.body.c_str());
    return 0;
  }
  try {
    json j = json::parse(a.body);
    size_t start = 0;
    while (true) {
      const size_t dot = field.find('.', start);
      const std::string key = field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!j.is_object() || !j.contains(key)) {
        std::cerr << "get: " << path << " has no field " << field << "\n";
        return 1;
      }
      j = j[key];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    std::printf("%s\n", j.is_string() ? j.get<std::string>().c_str() : j.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "get: " << path << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shoal_bench_load: the same write load against Shoal and etcd (bench/vs_etcd.sh)"};
  app.require_subcommand(1);
  std::string system;
  std::vector<std::string> targets;
  int clients = 1;
  double seconds = 10;
  double warmup = 1;
  int64_t kill_pid = 0;
  int interval_ms = 5;
  int timeout_s = 30;
  int settle_ms = 500;
  std::string run_id = std::to_string(::getpid()) + "-" +
                       std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);

  auto add_common = [&](CLI::App* sub) {
    sub->add_option("system", system, "shoal or etcd")->required()->check(CLI::IsMember({"shoal", "etcd"}));
    sub->add_option("--target", targets, "a member: unix socket path (shoal) or 127.0.0.1:PORT (etcd)")->required();
    sub->add_option("--run-id", run_id, "makes keys unique across runs");
  };
  auto* load = app.add_subcommand("load", "closed-loop writes from N clients for S seconds");
  add_common(load);
  load->add_option("--clients", clients, "concurrent clients (threads)")->check(CLI::Range(1, kMaxClients));
  load->add_option("--seconds", seconds, "measured seconds")->check(CLI::Range(0.1, kMaxSeconds));
  load->add_option("--warmup-seconds", warmup, "unmeasured seconds first")->check(CLI::Range(0.0, 60.0));
  auto* fo = app.add_subcommand("failover", "kill a member and time the first write acknowledged after it");
  add_common(fo);
  fo->add_option("--kill-pid", kill_pid, "the process to SIGKILL")->required()->check(CLI::Range(int64_t{2}, int64_t{1} << 22));
  fo->add_option("--interval-ms", interval_ms, "one probe per survivor every this often")->check(CLI::Range(1, 1000));
  fo->add_option("--timeout-seconds", timeout_s, "give up after this")->check(CLI::Range(1, 300));
  fo->add_option("--settle-ms", settle_ms, "probing before the kill once all survivors answer")->check(CLI::Range(0, 60000));
  auto* leader = app.add_subcommand("leader", "print the leader's index when all members agree on one");
  add_common(leader);
  std::string path;
  std::string field;
  auto* get = app.add_subcommand("get", "print one API answer, or one string field of it");
  add_common(get);
  get->add_option("--path", path, "e.g. /v1.41/swarm")->required();
  get->add_option("--field", field, "dotted path to a field, e.g. JoinTokens.Manager");
  CLI11_PARSE(app, argc, argv);

  const System sys = system == "shoal" ? System::kShoal : System::kEtcd;
  try {
    if (*load) return run_load(sys, targets, clients, seconds, warmup, run_id);
    if (*fo) return run_failover(sys, targets, static_cast<pid_t>(kill_pid), interval_ms, timeout_s, settle_ms, run_id);
    if (*leader) return run_leader(sys, targets);
    if (*get) return run_get(sys, targets.front(), path, field);
  } catch (const std::exception& e) {
    std::cerr << "shoal_bench_load: " << e.what() << "\n";
    return 2;
  }
  return 2;
}
