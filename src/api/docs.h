#pragma once
// The API's own documentation (issue 8): GET /openapi.json (docs/openapi.json, compiled in at
// build time) and GET /docs, an interactive reference (Redoc, taken from npm at build time by
// scripts/fetch-docs-ui.sh into data/www/ and served from here: no CDN, works offline).
#include <string>
#include <string_view>

#include "http/types.h"

namespace leadgate {

std::string_view openapi_document();  // generated from docs/openapi.json (CMakeLists.txt)

// Static files of the documentation page, read once at start from `www_dir`; a missing file
// makes /docs explain how to fetch it instead of failing.
struct DocsAssets {
  std::string redoc_js;  // redoc.standalone.js
  static DocsAssets load(const std::string& www_dir);
};

Handler openapi_handler();
Handler docs_page_handler(const DocsAssets& assets);
Handler docs_asset_handler(const DocsAssets& assets);

}  // namespace leadgate
