#pragma once
// The API's own documentation (issue 8): GET /openapi.json (docs/openapi.json, compiled in at
// build time) and GET /docs, an interactive reference (Redoc, taken from npm at build time by
// scripts/fetch-docs-ui.sh into data/www/ and served from here: no CDN, works offline).
#include <map>
#include <string>
#include <string_view>

#include "http/types.h"

namespace leadgate {

// Files compiled in by CMakeLists.txt (leadgate_embed_files): "" for an unknown name.
std::string_view embedded_docs(std::string_view name);       // docs/openapi.json
std::string_view embedded_dashboard(std::string_view name);  // web/dashboard/*
std::string_view openapi_document();

// Third-party UI files taken from npm at build time (scripts/fetch-docs-ui.sh → data/www/), read
// once at start: Redoc for /docs, uPlot for /dashboard. A missing file makes the page explain how
// to fetch it instead of failing.
struct DocsAssets {
  std::map<std::string, std::string> files;  // by file name
  static DocsAssets load(const std::string& www_dir);
  const std::string* find(const std::string& name) const;
};
// Content-Type by file extension (.js, .css, .html, .json).
std::string content_type_of(std::string_view name);

Handler openapi_handler();
Handler docs_page_handler(const DocsAssets& assets);
Handler docs_asset_handler(const DocsAssets& assets);

}  // namespace leadgate
