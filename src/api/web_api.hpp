#pragma once
// The JSON web API the host website calls (api.md): one handler per endpoint.

#include "auth/jwt.hpp"
#include "config/live_settings.hpp"
#include "net/chat_service.hpp"
#include "net/http_types.hpp"

#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <map>
#include <string>

namespace barertc::store {
class DmHistory;
}
namespace barertc::hooks {
class WebhookClient;
}

namespace barertc::api {

class WebApi {
  public:
    WebApi(config::LiveSettings& settings, net::ChatService& chat);

    // What /api/shutdown does once it has answered (set by main).
    void set_shutdown(std::function<void()> shutdown) { shutdown_ = std::move(shutdown); }
    // The DM history (null when disabled), the webhook client, and a pool for blocking work.
    void set_services(store::DmHistory* history, hooks::WebhookClient* webhooks,
                      boost::asio::thread_pool* workers) {
        history_ = history;
        webhooks_ = webhooks;
        workers_ = workers;
    }

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
    // User-JWT endpoints (api.md §3, §11–§14).
    void profile(net::Request req, net::Respond respond);
    void message_history(net::Request req, net::Respond respond);
    void message_usernames(net::Request req, net::Respond respond);
    void message_clear(net::Request req, net::Respond respond);
    // api.md §3: JWT enabled, token present and valid. Returns the claims, or sets `error`.
    std::optional<auth::Claims> user_token(const std::string& token, std::string& error) const;
    // Runs `fn` on the worker pool (blocking database work never runs on I/O threads).
    void on_worker(std::function<void()> fn);

    // Checks the admin key in constant time; an empty configured key never matches.
    bool api_key_ok(std::string_view given) const;

    config::LiveSettings& settings_;
    net::ChatService& chat_;
    std::map<std::string, Handler, std::less<>> routes_;
    std::function<void()> shutdown_;
    store::DmHistory* history_ = nullptr;
    hooks::WebhookClient* webhooks_ = nullptr;
    boost::asio::thread_pool* workers_ = nullptr;
};

}  // namespace barertc::api
