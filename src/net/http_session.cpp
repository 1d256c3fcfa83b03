#include "net/http_session.hpp"
#include "util/ascii.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <cctype>

namespace barertc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// The host part of an Origin such as "https://example.com:8080" → "example.com:8080".
std::string_view origin_host(std::string_view origin) {
    const auto scheme = origin.find("://");
    if (scheme != std::string_view::npos) origin.remove_prefix(scheme + 3);
    const auto slash = origin.find('/');
    if (slash != std::string_view::npos) origin = origin.substr(0, slash);
    return origin;
}

std::string_view path_of(std::string_view target) {
    const auto q = target.find('?');
    return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace

HttpSession::HttpSession(asio::ip::tcp::socket&& socket, HttpHandler& handler, ChatService& chat,
                         ConnectionLimiter& limiter, HttpOptions http, WebSocketOptions websocket)
    : stream_(std::move(socket)),
      handler_(handler),
      chat_(chat),
      limiter_(limiter),
      http_(http),
      websocket_(websocket) {}

void HttpSession::run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::do_read() {
    parser_.emplace();
    parser_->header_limit(http_.header_limit);
    parser_->body_limit(http_.body_limit);
    // The first request must arrive within the header timeout (slowloris); a kept-alive
    // connection may then idle a little longer between requests.
    stream_.expires_after(first_request_ ? http_.header_timeout : http_.idle_timeout);
    first_request_ = false;
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                         self->on_read(ec, n);
                     });
}

std::string HttpSession::remote_address(const Request& req) const {
    if (http_.use_x_forwarded_for) {
        if (auto it = req.find("X-Real-IP"); it != req.end() && !it->value().empty()) {
            return std::string(it->value());
        }
        if (auto it = req.find("X-Forwarded-For"); it != req.end() && !it->value().empty()) {
            std::string_view v = it->value();
            return std::string(v.substr(0, v.find(',')));
        }
    }
    boost::system::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    return ec ? std::string("unknown") : ep.address().to_string();
}

void HttpSession::on_read(boost::system::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
        boost::system::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        return;
    }
    if (ec) {
        // Garbage or oversized requests get a plain answer and the connection is closed.
        http::status status = http::status::bad_request;
        if (ec == http::error::header_limit) status = http::status::request_header_fields_too_large;
        if (ec == http::error::body_limit) status = http::status::payload_too_large;
        Response res{status, 11};
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.set(http::field::connection, "close");
        res.body() = std::string(http::obsolete_reason(status)) + "\n";
        res.keep_alive(false);
        res.prepare_payload();
        spdlog::debug("bad HTTP request: {}", ec.message());
        write(std::move(res));
        return;
    }

    Request req = parser_->release();
    const std::string remote = remote_address(req);
    if (path_of(req.target()) == "/ws") {
        if (beast::websocket::is_upgrade(req)) {
            upgrade(std::move(req), remote);
            return;
        }
        // Not an upgrade: the answer a WebSocket library gives, with the original's wording.
        const bool get = req.method() == http::verb::get;
        auto status = get ? http::status::upgrade_required : http::status::method_not_allowed;
        std::string reason = get ? "the client is not using the websocket protocol: 'upgrade' "
                                   "token not found in 'Connection' header"
                                 : "the client is not using the websocket protocol: request "
                                   "method is not GET";
        write(make_response(req, status, "text/plain; charset=utf-8",
                            "Could not accept websocket connection: " + reason + "\n"));
        return;
    }

    stream_.expires_never();
    auto self = shared_from_this();
    handler_.handle(std::move(req), RequestContext{remote, &limiter_}, [self](Response res) {
        asio::dispatch(self->stream_.get_executor(),
                       [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
    });
}

void HttpSession::upgrade(Request req, const std::string& remote) {
    // The original accepts a socket only from its own origin (protocol.md §1).
    if (auto origin = req.find(http::field::origin); origin != req.end()) {
        const std::string_view host = req[http::field::host];
        if (!iequals_ascii(origin_host(origin->value()), host)) {
            auto res =
                make_response(req, http::status::forbidden, "text/plain; charset=utf-8",
                              "Could not accept websocket connection: request Origin \"" +
                                  std::string(origin->value()) +
                                  "\" is not authorized for Host \"" + std::string(host) + "\"\n");
            res.keep_alive(false);
            write(std::move(res));
            return;
        }
    }
    if (!limiter_.try_acquire(remote, http_.max_connections, http_.connections_per_ip)) {
        auto res =
            make_response(req, http::status::service_unavailable, "text/plain; charset=utf-8",
                          "Could not accept websocket connection: too many connections\n");
        res.keep_alive(false);
        write(std::move(res));
        return;
    }
    boost::system::error_code ignored;
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    auto session =
        std::make_shared<WebSocketSession>(std::move(stream_), chat_, websocket_, remote);
    session->on_close([&limiter = limiter_, remote] { limiter.release(remote); });
    session->run(std::move(req));
}

void HttpSession::write(Response res) {
    auto sp = std::make_shared<Response>(std::move(res));
    stream_.expires_after(http_.header_timeout);
    http::async_write(
        stream_, *sp, [self = shared_from_this(), sp](boost::system::error_code ec, std::size_t) {
            if (ec || !sp->keep_alive()) {
                boost::system::error_code ignored;
                self->stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                return;
            }
            self->do_read();
        });
}

}  // namespace barertc::net
