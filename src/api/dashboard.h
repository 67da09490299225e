#pragma once
// The operations dashboard (docs/dashboard.md): GET /dashboard (the page, compiled in from
// web/dashboard/), its login/logout, GET /dashboard/data (the numbers, from the per-minute
// aggregates of every instance) and GET /dashboard/assets/{asset}. Everything but the login form
// needs an API key with the "ops" scope, as a header or as the session cookie the login sets.
#include <string>

#include "api/docs.h"
#include "core/offload.h"
#include "http/types.h"
#include "services/auth.h"
#include "store/store.h"

namespace leadgate {

struct DashboardDeps {
  OpsStore& store;        // metric_minutes
  AccessStore& sessions;  // the sessions the login opens and the logout ends
  BlockingPool& pool;
  ApiKeyAuth& auth;
  const DocsAssets& assets;
  bool secure_cookie = true;  // secure_session_cookie(the listen address)
};

// Whether the session cookie is marked Secure: always, except when the service listens on a
// loopback address only (local development over plain http).
bool secure_session_cookie(const std::string& listen_host);

Handler dashboard_page_handler(const DashboardDeps& deps);
Handler dashboard_login_page_handler();
Handler dashboard_login_handler(const DashboardDeps& deps);
Handler dashboard_logout_handler(const DashboardDeps& deps);
Handler dashboard_data_handler(const DashboardDeps& deps);
Handler dashboard_asset_handler(const DashboardDeps& deps);

}  // namespace leadgate
