#include "api/docs.h"

#include <fstream>
#include <sstream>

#include "http/problem.h"

namespace leadgate {

std::string_view openapi_document() {
  return embedded_docs("openapi.json");
}

DocsAssets DocsAssets::load(const std::string& www_dir) {
  DocsAssets a;
  for (const char* name : {"redoc.standalone.js", "uPlot.iife.min.js", "uPlot.min.css"}) {
    std::ifstream in(www_dir + "/" + name, std::ios::binary);
    if (!in) continue;
    std::ostringstream s;
    s << in.rdbuf();
    a.files[name] = s.str();
  }
  return a;
}

const std::string* DocsAssets::find(const std::string& name) const {
  auto it = files.find(name);
  return it == files.end() ? nullptr : &it->second;
}

std::string content_type_of(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".js")) return "application/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
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
    if (!assets.find("redoc.standalone.js")) {
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
    const std::string* file = assets.find(ctx.path_params["asset"]);
    if (ctx.path_params["asset"] != "redoc.standalone.js" || !file) {
      throw ApiError(404, "NOT_FOUND", "No such documentation file");
    }
    auto res = text_response(req, http::status::ok, *file, "application/javascript; charset=utf-8");
    res.set(http::field::cache_control, "public, max-age=86400");
    co_return res;
  };
}

}  // namespace leadgate
