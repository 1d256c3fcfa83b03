#pragma once
// The HTTP long-polling transport at /poll (protocol.md §20): the same protocol as /ws, one
// message per POST, every queued message returned in the answer.

#include "config/live_settings.hpp"
#include "net/chat_service.hpp"
#include "net/http_types.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace barertc::net {

class PollService : public HttpHandler {
  public:
    PollService(boost::asio::io_context& ioc, ChatService& chat, config::LiveSettings& settings);
    ~PollService() override;

    // Starts the idle sweep (sessions silent for 60 s time out).
    void start();
    void stop();

    void handle(Request req, RequestContext ctx, Respond respond) override;

  private:
    struct Impl;
    class Session;
    // Shared so that a session can reach the registry from the room's strand without keeping
    // the service alive; handlers hold weak references only.
    std::shared_ptr<Impl> impl_;
};

}  // namespace barertc::net
