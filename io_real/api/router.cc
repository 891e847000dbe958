#include "io_real/api/router.h"

#include <atomic>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/env/check.h"

namespace shoal::real {

namespace {

// Splits "/a/b/c" into {"a","b","c"}; "/" into {""}; "/a/" into {"a",""}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  SHOAL_CHECK(!method.empty(), "route %s has no method", pattern.c_str());
  SHOAL_CHECK(!pattern.empty() && pattern[0] == '/', "route pattern \"%s\" must start with '/'",
              pattern.c_str());
  SHOAL_CHECK(handler != nullptr, "route %s %s has no handler", method.c_str(), pattern.c_str());
  Route route;
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.handler = std::move(handler);
  for (const std::string_view seg : split_path(route.pattern)) {
    Segment s;
    if (!seg.empty() && seg.front() == '{') {
      SHOAL_CHECK(seg.size() > 2 && seg.back() == '}', "route pattern \"%s\": bad parameter",
                  route.pattern.c_str());
      s.text = std::string(seg.substr(1, seg.size() - 2));
      s.is_param = true;
    } else {
      SHOAL_CHECK(seg.find_first_of("{}") == std::string_view::npos,
                  "route pattern \"%s\": braces must enclose a whole segment", route.pattern.c_str());
      s.text = std::string(seg);
      ++route.literal_count;
    }
    route.segments.push_back(std::move(s));
  }
  for (const Route& r : routes_) {
    SHOAL_CHECK(!(r.method == route.method && r.pattern == route.pattern), "route %s %s added twice",
                route.method.c_str(), route.pattern.c_str());
  }
  routes_.push_back(std::move(route));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  const std::vector<std::string_view> segments = split_path(path);
  Match best;
  int best_literals = -1;
  std::string allowed;  // methods that would have matched this path
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    PathParams params;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const Segment& s = route.segments[i];
      if (s.is_param) {
        ok = !segments[i].empty();
        if (ok) params[s.text] = std::string(segments[i]);
      } else {
        ok = s.text == segments[i];
      }
    }
    if (!ok) continue;
    if (route.method != method) {
      if (allowed.find(route.method) == std::string::npos) {
        if (!allowed.empty()) allowed += ", ";
        allowed += route.method;
      }
      continue;
    }
    if (route.literal_count > best_literals) {
      best_literals = route.literal_count;
      best.handler = &route.handler;
      best.params = std::move(params);
    }
  }
  if (best.handler != nullptr) return best;
  if (!allowed.empty()) {
    best.status = 405;
    best.message = "method " + std::string(method) + " is not allowed on " + std::string(path) +
                   " (allowed: " + allowed + ")";
  } else {
    best.status = 404;
    best.message = "page not found";
  }
  return best;
}

void Router::dispatch(HttpRequest request, Responder respond) const {
  Match m = match(request.method, request.path);
  if (m.handler == nullptr) {
    respond(error_response(m.status, std::move(m.message)));
    return;
  }
  // Knows whether the handler answered before it threw, so a throw never answers twice.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  Responder once = [answered, respond](HttpResponse r) {
    *answered = true;
    respond(std::move(r));
  };
  try {
    (*m.handler)(request, m.params, std::move(once));
  } catch (const nlohmann::json::exception& e) {
    if (!*answered) respond(error_response(400, std::string("bad JSON in request: ") + e.what()));
  } catch (const std::exception& e) {
    if (!*answered) respond(error_response(500, std::string("internal error: ") + e.what()));
  }
}

}  // namespace shoal::real
