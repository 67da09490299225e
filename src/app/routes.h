#pragma once
// The route table and the request dispatch: which handler serves which method and path, and the
// middleware every route's chain is built from (the order is documented in http/middleware.h).
#include "api/dashboard.h"
#include "api/docs.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/offload.h"
#include "domain/pincode_directory.h"
#include "domain/profession_catalogue.h"
#include "http/router.h"
#include "http/server.h"
#include "services/appointments.h"
#include "services/auth.h"
#include "services/customer_tokens.h"
#include "services/erasure.h"
#include "services/idempotency.h"
#include "services/lead_flash.h"
#include "services/lead_intake.h"
#include "services/otp_service.h"
#include "services/privacy.h"
#include "services/privacy_export.h"
#include "services/tracking.h"
#include "services/webhook_intake.h"
#include "store/store.h"

namespace leadgate {

// What the handlers are built from.
struct RouteDeps {
  const Config& config;
  Store& store;
  BlockingPool& pool;
  Metrics& metrics;
  bool basic_app_sandboxed;
  bool gupshup_sandboxed;
  const PincodeDirectory& pincodes;
  const ProfessionCatalogue& professions;
  const DocsAssets& docs;
  const DashboardDeps& dashboard;
  LeadIntake& intake;
  LeadFlash& flash;
  OtpService& otp;
  ApplicationTracker& tracker;
  AppointmentBook& appointments;
  WebhookIntake& webhook;
  ConsentLedger& privacy;
  PersonalDataExport& privacy_export;
  Eraser& eraser;
};

void add_routes(Router& router, const RouteDeps& deps);

// Builds every route's middleware chain once (metrics, request id, error mapping; load shedding
// on routes with a latency objective; the API key, the customer token and Idempotency-Key where
// the route asks for them) and answers unknown paths 404 and known paths with another method 405.
// `router` must outlive the returned function.
Dispatch make_dispatch(const Router& router, const Config& config, Metrics& metrics,
                       const BlockingPool& pool, ApiKeyAuth& auth, CustomerGuard& customers,
                       Idempotency& idempotency);

}  // namespace leadgate
