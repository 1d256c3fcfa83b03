#include "net/listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/strand.hpp>

#include <stdexcept>

namespace barertc::net {

namespace asio = boost::asio;
using asio::ip::tcp;

Listener::Listener(asio::io_context& ioc, HttpHandler& handler, ChatService& chat,
                   ListenerOptions options)
    : ioc_(ioc),
      acceptor_(asio::make_strand(ioc)),
      handler_(handler),
      chat_(chat),
      options_(std::move(options)) {}

void Listener::listen(const tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    if (endpoint.address().is_v6()) {
        boost::system::error_code ignored;
        acceptor_.set_option(asio::ip::v6_only(false), ignored);
    }
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

void Listener::start() {
    do_accept();
}

void Listener::stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
        boost::system::error_code ignored;
        self->acceptor_.close(ignored);
    });
}

void Listener::do_accept() {
    acceptor_.async_accept(
        asio::make_strand(ioc_),
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (ec) {
                spdlog::warn("accept failed: {}", ec.message());
            } else {
                std::make_shared<HttpSession>(std::move(socket), self->handler_, self->chat_,
                                              self->limiter_, self->options_.http(),
                                              self->options_.websocket())
                    ->run();
            }
            self->do_accept();
        });
}

tcp::endpoint parse_listen_address(const std::string& address) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("missing port in address");
    std::string host = address.substr(0, colon);
    const std::string port_text = address.substr(colon + 1);
    unsigned long port = 0;
    try {
        std::size_t used = 0;
        port = std::stoul(port_text, &used);
        if (used != port_text.size() || port > 65535) throw std::invalid_argument("port");
    } catch (const std::exception&) {
        throw std::invalid_argument("invalid port \"" + port_text + "\"");
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    asio::ip::address addr;
    if (host.empty()) {
        addr = asio::ip::address_v6::any();
    } else if (host == "localhost") {
        addr = asio::ip::address_v4::loopback();
    } else {
        boost::system::error_code ec;
        addr = asio::ip::make_address(host, ec);
        if (ec) throw std::invalid_argument("invalid host \"" + host + "\"");
    }
    return {addr, static_cast<unsigned short>(port)};
}

}  // namespace barertc::net
