#pragma once
// One HTTP connection: reads requests within size and time limits, upgrades /ws to a
// WebSocket, and hands every other request to the site's handler.

#include "net/chat_service.hpp"
#include "net/connection_limiter.hpp"
#include "net/http_types.hpp"
#include "net/websocket_session.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <memory>
#include <optional>

namespace barertc::net {

struct HttpOptions {
    std::uint32_t header_limit = 64 * 1024;
    std::uint64_t body_limit = 41943040;
    std::chrono::seconds header_timeout{30};
    std::chrono::seconds idle_timeout{120};
    bool use_x_forwarded_for = false;
    std::int64_t max_connections = 0;
    std::int64_t connections_per_ip = 0;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
  public:
    HttpSession(boost::asio::ip::tcp::socket&& socket, HttpHandler& handler, ChatService& chat,
                ConnectionLimiter& limiter, HttpOptions http, WebSocketOptions websocket);

    void run();

  private:
    void do_read();
    void on_read(boost::system::error_code ec, std::size_t bytes);
    void upgrade(Request req, const std::string& remote);
    void write(Response res);
    std::string remote_address(const Request& req) const;

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    HttpHandler& handler_;
    ChatService& chat_;
    ConnectionLimiter& limiter_;
    HttpOptions http_;
    WebSocketOptions websocket_;
    bool first_request_ = true;
};

}  // namespace barertc::net
