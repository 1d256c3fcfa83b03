#pragma once
// Accepts TCP connections and starts an HTTP session for each.

#include "net/http_session.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>

namespace barertc::net {

// Options are read per connection so that a reload applies to new connections.
struct ListenerOptions {
    std::function<HttpOptions()> http;
    std::function<WebSocketOptions()> websocket;
};

class Listener : public std::enable_shared_from_this<Listener> {
  public:
    Listener(boost::asio::io_context& ioc, HttpHandler& handler, ChatService& chat,
             ListenerOptions options);

    // Binds and listens; throws boost::system::system_error when the address is unusable.
    void listen(const boost::asio::ip::tcp::endpoint& endpoint);
    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    void start();
    void stop();

  private:
    void do_accept();

    boost::asio::io_context& ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    HttpHandler& handler_;
    ChatService& chat_;
    ListenerOptions options_;
    ConnectionLimiter limiter_;
};

// Parses Go-style listen addresses: ":9000", "127.0.0.1:9000", "[::1]:9000", "localhost:0".
// An empty host means every interface.
boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& address);

}  // namespace barertc::net
