#pragma once
// The JSON web API the host website calls (api.md): one handler per endpoint.

#include "config/live_settings.hpp"
#include "net/chat_service.hpp"
#include "net/http_types.hpp"

#include <functional>
#include <map>
#include <string>

namespace barertc::api {

class WebApi {
public:
    WebApi(config::LiveSettings& settings, net::ChatService& chat);

    // What /api/shutdown does once it has answered (set by main).
    void set_shutdown(std::function<void()> shutdown) { shutdown_ = std::move(shutdown); }

    // True when `path` is one of the registered endpoints.
    bool handles(std::string_view path) const;
    void handle(net::Request req, net::RequestContext ctx, net::Respond respond);

private:
    using Handler = void (WebApi::*)(net::Request, net::Respond);
    void statistics(net::Request req, net::Respond respond);
    void authenticate(net::Request req, net::Respond respond);
    void blocklist(net::Request req, net::Respond respond);
    void amend_jwt(net::Request req, net::Respond respond);
    void shutdown(net::Request req, net::Respond respond);
    void block_now(net::Request req, net::Respond respond);
    void disconnect_now(net::Request req, net::Respond respond);

    // Checks the admin key in constant time; an empty configured key never matches.
    bool api_key_ok(std::string_view given) const;

    config::LiveSettings& settings_;
    net::ChatService& chat_;
    std::map<std::string, Handler, std::less<>> routes_;
    std::function<void()> shutdown_;
};

}  // namespace barertc::api
