#pragma once
// The HTML pages (pages.md): the chat page at "/" with the visitor's identity embedded, the
// about page and the logged-out page.

#include "config/live_settings.hpp"
#include "net/chat_service.hpp"
#include "net/http_types.hpp"

namespace barertc::web {

// {username, credential} for coturn's REST API (decisions.md §8).
std::pair<std::string, std::string> turn_rest_credentials(const config::TurnSettings& turn,
                                                          const std::string& user,
                                                          std::int64_t now_unix);

class Pages {
  public:
    Pages(config::LiveSettings& settings, net::ChatService& chat);

    // "/" and every unmatched path (auth.md §5 for the JWT outcomes).
    void index(net::Request req, net::Respond respond);
    void about(const net::Request& req, net::Respond respond);
    void logout(const net::Request& req, net::Respond respond);

  private:
    config::LiveSettings& settings_;
    net::ChatService& chat_;
};

}  // namespace barertc::web
