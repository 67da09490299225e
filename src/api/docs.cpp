#include "api/docs.h"

#include <fstream>
#include <sstream>

#include "http/problem.h"

namespace leadgate {

DocsAssets DocsAssets::load(const std::string& www_dir) {
  DocsAssets a;
  std::ifstream in(www_dir + "/redoc.standalone.js", std::ios::binary);
  if (in) {
    std::ostringstream s;
    s << in.rdbuf();
    a.redoc_js = s.str();
  }
  return a;
}

Handler openapi_handler() {
  return [](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    auto res =
        text_response(req, http::status::ok, std::string(openapi_document()), "application/json");
    res.set(http::field::cache_control, "no-cache");
    co_return res;
  };
}

Handler docs_page_handler(const DocsAssets& assets) {
  return [&assets](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    std::string body;
    if (assets.redoc_js.empty()) {
      body =
          "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>leadgate API"
          "</title></head><body><h1>leadgate API</h1><p>The interactive reference is not "
          "installed on this server (run <code>scripts/fetch-docs-ui.sh</code> before "
          "building). The OpenAPI document is at <a href=\"/openapi.json\">/openapi.json</a>."
          "</p></body></html>";
    } else {
      body =
          "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<title>leadgate API reference</title><style>body{margin:0}</style></head><body>"
          "<redoc spec-url=\"/openapi.json\" hide-download-button=\"false\"></redoc>"
          "<script src=\"/docs/redoc.standalone.js\"></script></body></html>";
    }
    co_return text_response(req, http::status::ok, std::move(body), "text/html; charset=utf-8");
  };
}

Handler docs_asset_handler(const DocsAssets& assets) {
  return [&assets](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    if (ctx.path_params["asset"] != "redoc.standalone.js" || assets.redoc_js.empty()) {
      throw ApiError(404, "NOT_FOUND", "No such documentation file");
    }
    auto res = text_response(req, http::status::ok, assets.redoc_js,
                             "application/javascript; charset=utf-8");
    res.set(http::field::cache_control, "public, max-age=86400");
    co_return res;
  };
}

}  // namespace leadgate
