#pragma once
// The route table (api.md §1): exact paths for the API and pages, prefixes for static files,
// and the chat page for everything else, like Go's ServeMux.

#include "api/web_api.hpp"
#include "net/http_types.hpp"
#include "web/pages.hpp"
#include "web/static_files.hpp"

namespace barertc::web {

class Site : public net::HttpHandler {
  public:
    Site(api::WebApi& api, Pages& pages, net::HttpHandler& poll, config::LiveSettings& settings,
         net::ChatService& chat)
        : api_(api), pages_(pages), poll_(poll), settings_(settings), chat_(chat) {}
    void handle(net::Request req, net::RequestContext ctx, net::Respond respond) override;

  private:
    api::WebApi& api_;
    Pages& pages_;
    net::HttpHandler& poll_;
    config::LiveSettings& settings_;
    net::ChatService& chat_;
    StaticFiles static_{StaticFiles::default_root()};

    // GET /metrics (decisions.md §9): only when enabled, only with the admin key.
    bool metrics(const net::Request& req, net::Respond& respond);
};

// Go's path.Clean for URL paths: collapses "//", "." and ".." and keeps a trailing slash.
std::string clean_path(std::string_view path);

}  // namespace barertc::web
