// Router: maps (method, path) of the client API to a handler, as dockerd's router does.
//
// Patterns are literal segments and {name} parameters: "/nodes/{id}/update". A parameter matches
// exactly one non-empty segment. When several patterns match a path, the one with more literal
// segments wins ("/configs/create" over "/configs/{id}"), then the one added first. A path no
// pattern matches gets 404 {"message":"page not found"} (dockerd's answer); a path some pattern
// matches but not for this method gets 405.
//
// A handler answers through its Responder, now or later (after a Raft commit); it must call it
// exactly once. Which thread may call it is the server's rule (HttpServer: any thread).
//
//   Router router;
//   router.add("GET", "/nodes/{id}", [&](const HttpRequest& req, const PathParams& p, Responder respond) {
//     respond(json_response(200, node_json(p.at("id"))));
//   });
//   router.dispatch(std::move(request), std::move(respond));
//
// Thread contract: add() before serving; dispatch() and match() are const and may run anywhere.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "io_real/api/http_types.h"

namespace shoal::real {

using Responder = std::function<void(HttpResponse)>;
using PathParams = std::map<std::string, std::string>;
using Handler = std::function<void(const HttpRequest&, const PathParams&, Responder)>;

class Router {
 public:
  // The outcome of matching: a handler and its parameters, or the error status (404 or 405) with
  // a message ready to send.
  struct Match {
    const Handler* handler = nullptr;
    PathParams params;
    int status = 200;
    std::string message;
  };

  // Adds a route. A malformed pattern (not starting with '/', an empty or unclosed {}) or the same
  // method and pattern twice is a programmer error and aborts.
  void add(std::string method, std::string pattern, Handler handler);

  Match match(std::string_view method, std::string_view path) const;

  // Matches and runs the handler, or answers 404/405. A handler that throws is answered with 500
  // (400 for a JSON error, which is the client's malformed body) unless it already answered.
  void dispatch(HttpRequest request, Responder respond) const;

  size_t size() const { return routes_.size(); }

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter's name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    int literal_count = 0;
    Handler handler;
  };

  std::vector<Route> routes_;  // in the order added
};

}  // namespace shoal::real
