#pragma once
// Routes: method + path pattern ("/api_v1/consent/{token}") -> handler with its policies.
#include <string>
#include <vector>

#include "http/types.h"

namespace leadgate {

struct Route {
  http::verb method;
  std::string pattern;
  Handler handler;
  bool requires_api_key = true;
  bool idempotent = false;  // honours Idempotency-Key
  // Concerns one customer: an app key must carry that customer's token (issue 20 §2).
  bool customer_bound = false;
};

class Router {
 public:
  void add(Route route);
  struct Match {
    const Route* route = nullptr;      // null: no route for this method and path
    std::vector<std::string> allowed;  // methods of the path when the method did not match
    std::map<std::string, std::string> params;
  };
  Match match(http::verb method, std::string_view target) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace leadgate
