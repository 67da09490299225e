#include "http/router.h"

namespace leadgate {
namespace {
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

bool match_pattern(std::string_view pattern, std::string_view path,
                   std::map<std::string, std::string>& params) {
  auto ps = segments(pattern);
  auto xs = segments(path);
  if (ps.size() != xs.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].size() > 2 && ps[i].front() == '{' && ps[i].back() == '}') {
      found.emplace(std::string(ps[i].substr(1, ps[i].size() - 2)), std::string(xs[i]));
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}
}  // namespace

void Router::add(Route route) {
  routes_.push_back(std::move(route));
}

Router::Match Router::match(http::verb method, std::string_view target) const {
  const auto path = target.substr(0, target.find('?'));
  Match m;
  // One resource, one path (no alias that a proxy's rules or a cache would see as another): a
  // path with an empty segment ("//", a trailing '/') or without its leading '/' (not origin-form,
  // which Beast lets through) matches no route.
  if (!path.starts_with('/') || path.ends_with('/') || path.find("//") != std::string_view::npos) {
    return m;
  }
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match_pattern(r.pattern, path, params)) continue;
    if (r.method == method) {
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
    m.allowed.emplace_back(http::to_string(r.method));
  }
  return m;
}

}  // namespace leadgate
