#include "net/websocket_session.hpp"

#include "chat/protocol.hpp"
#include "util/metrics.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace barertc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
std::int64_t steady_ns(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

WebSocketSession::WebSocketSession(beast::tcp_stream&& stream, ChatService& service,
                                   WebSocketOptions options, std::string remote_address)
    : ws_(std::move(stream)),
      service_(service),
      options_(options),
      remote_address_(std::move(remote_address)),
      id_(service.new_session_id()),
      outbox_(options.outbox),
      ping_timer_(ws_.get_executor()),
      kill_timer_(ws_.get_executor()) {}

void WebSocketSession::run(Request req) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "BareRTC-cpp"); }));
    ws_.read_message_max(options_.read_limit);
    ws_.async_accept(
        req, [self = shared_from_this()](boost::system::error_code ec) { self->on_accept(ec); });
}

void WebSocketSession::on_accept(boost::system::error_code ec) {
    if (ec) {
        spdlog::debug("websocket handshake from {} failed: {}", remote_address_, ec.message());
        teardown();
        return;
    }
    attached_ = true;
    service_.attach(id_, weak_from_this(), chat::ConnectionInfo{remote_address_});
    schedule_ping();
    do_read();
}

void WebSocketSession::do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](boost::system::error_code ec,
                                                        std::size_t n) { self->on_read(ec, n); });
}

void WebSocketSession::on_read(boost::system::error_code ec, std::size_t) {
    if (ec) {
        if (ec == websocket::error::message_too_big) {
            spdlog::info("websocket {}: message over {} bytes, closed with 1009", id_,
                         options_.read_limit);
        }
        teardown();
        return;
    }
    if (ws_.got_text()) {
        const auto data = buffer_.cdata();
        const std::string_view text(static_cast<const char*>(data.data()), data.size());
        auto parsed = chat::parse_client_message(text);
        if (parsed.message) {
            service_.incoming(id_, std::move(*parsed.message));
        } else {
            spdlog::debug("websocket {}: dropped a frame: {}", id_, parsed.error);
        }
    } else {
        spdlog::debug("websocket {}: ignored a binary frame", id_);
    }
    buffer_.consume(buffer_.size());
    do_read();
}

void WebSocketSession::deliver(const chat::Payload& payload, chat::PayloadKind kind) {
    switch (outbox_.push(payload, kind, std::chrono::steady_clock::now())) {
        case Outbox::Push::StartWrite:
            asio::post(ws_.get_executor(), [self = shared_from_this()] { self->start_write(); });
            break;
        case Outbox::Push::Overflow:
            asio::post(ws_.get_executor(), [self = shared_from_this()] { self->close_slow(); });
            break;
        case Outbox::Push::Queued:
        case Outbox::Push::Closed:
            break;
    }
}

void WebSocketSession::start_write() {
    if (torn_down_) return;
    auto next = outbox_.next();
    if (!next) {
        if (close_when_drained_) close_with(websocket::close_code::going_away);
        return;
    }
    write_started_ = steady_ns(std::chrono::steady_clock::now());
    ws_.text(true);
    const auto& frame = **next;
    ws_.async_write(asio::buffer(frame), [self = shared_from_this(), hold = std::move(*next)](
                                             boost::system::error_code ec, std::size_t) {
        self->write_started_ = 0;
        if (ec) {
            self->teardown();
            return;
        }
        self->start_write();
    });
}

void WebSocketSession::check_health(std::chrono::steady_clock::time_point now) {
    if (closing_) return;
    const auto started = write_started_.load();
    const bool write_stalled =
        started != 0 &&
        steady_ns(now) - started > std::chrono::nanoseconds(options_.send_timeout).count();
    if (write_stalled || outbox_.stuck(now)) {
        asio::post(ws_.get_executor(), [self = shared_from_this()] { self->close_slow(); });
    }
}

void WebSocketSession::close_going_away() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
        if (self->torn_down_) return;
        self->close_when_drained_ = true;
        // Nothing in flight: close now; otherwise the writer closes once the outbox is empty.
        if (self->write_started_ == 0 && self->outbox_.queued_frames() == 0) {
            self->close_with(websocket::close_code::going_away);
        }
    });
}

void WebSocketSession::close_slow() {
    if (torn_down_ || closing_) return;
    metrics::counters().slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("websocket {} ({}): too slow, dropping with {} queued bytes", id_, remote_address_,
                 outbox_.queued_bytes());
    close_with(
        websocket::close_reason(websocket::close_code::policy_error, std::string(kTooSlowReason)));
}

void WebSocketSession::close_with(websocket::close_reason reason) {
    if (closing_.exchange(true) || torn_down_) return;
    outbox_.close();
    ws_.async_close(reason,
                    [self = shared_from_this()](boost::system::error_code) { self->teardown(); });
    // A client that stopped reading never lets the close frame out: cut the socket.
    kill_timer_.expires_after(std::chrono::seconds(2));
    kill_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->teardown();
    });
}

void WebSocketSession::schedule_ping() {
    ping_timer_.expires_after(options_.ping_interval);
    ping_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || self->torn_down_) return;
        self->service_.ping(self->id_);
        self->schedule_ping();
    });
}

void WebSocketSession::teardown() {
    if (torn_down_) return;
    torn_down_ = true;
    closing_ = true;
    outbox_.close();
    ping_timer_.cancel();
    kill_timer_.cancel();
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
    if (attached_) service_.detach(id_);
    if (auto done = std::move(on_close_)) done();
}

}  // namespace barertc::net
