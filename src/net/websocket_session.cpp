#include "net/websocket_session.hpp"

#include "chat/protocol.hpp"
#include "util/metrics.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>

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
    timeouts.idle_timeout =
        options_.idle_timeout.count() > 0
            ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.idle_timeout)
            : websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "BareRTC-cpp"); }));
    // The read limit is applied in on_read, not by Beast: Beast answers an oversized message
    // by closing the socket with the rest of it unread, and the kernel's reset then usually
    // destroys the 1009 close frame before the client reads it.
    ws_.read_message_max(0);
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
    // A message arrives in pieces of at most 64 KiB, never more than one byte over the limit.
    const std::size_t room =
        options_.read_limit + 1 - std::min(buffer_.size(), options_.read_limit);
    ws_.async_read_some(buffer_, std::min<std::size_t>(room, 64 * 1024),
                        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->on_read(ec, n);
                        });
}

void WebSocketSession::on_read(boost::system::error_code ec, std::size_t) {
    if (ec) {
        teardown();
        return;
    }
    if (buffer_.size() > options_.read_limit) {
        // Close 1009 without reading on: Beast's closing handshake discards what the client
        // still sends until its close frame arrives, and the kill timer of close_with() bounds
        // the wait, so the close frame is not lost to a reset.
        spdlog::info("websocket {}: message over {} bytes, closed with 1009", id_,
                     options_.read_limit);
        buffer_.consume(buffer_.size());
        close_with(websocket::close_code::too_big);
        return;
    }
    if (!ws_.is_message_done()) {
        do_read();
        return;
    }
    if (!ws_.got_text()) {
        spdlog::debug("websocket {}: ignored a binary frame", id_);
        buffer_.consume(buffer_.size());
        do_read();
        return;
    }
    if (buffer_.size() >= kLargeFrameBytes && options_.large_frame_executor) {
        // Parsing megabytes of JSON would hold up every other user's chat on this thread. The
        // next read waits for the parse, so this client's messages stay in order.
        asio::post(options_.large_frame_executor, [self = shared_from_this(),
                                                   frame = std::move(buffer_)]() mutable {
            const auto data = frame.cdata();
            auto parsed = chat::parse_client_message(
                std::string_view(static_cast<const char*>(data.data()), data.size()));
            asio::post(self->ws_.get_executor(), [self, parsed = std::move(parsed)]() mutable {
                if (self->torn_down_) return;
                self->handle_parsed(std::move(parsed));
                self->do_read();
            });
        });
        buffer_ = beast::flat_buffer();
        return;
    }
    const auto data = buffer_.cdata();
    handle_parsed(chat::parse_client_message(
        std::string_view(static_cast<const char*>(data.data()), data.size())));
    buffer_.consume(buffer_.size());
    do_read();
}

void WebSocketSession::handle_parsed(chat::ParseResult parsed) {
    if (parsed.message) {
        service_.incoming(id_, std::move(*parsed.message));
    } else {
        spdlog::debug("websocket {}: dropped a frame: {}", id_, parsed.error);
    }
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

// Beast writes one message per call. Under load several frames wait in the outbox, and one
// system call for all of them costs about what one costs for a single frame, so this session
// frames its outgoing text messages itself (a server's frames are unmasked: a 2- to 10-byte
// header before the payload) and writes them with one gathered write. Reading, control frames
// and the close handshake stay with Beast.
namespace {
constexpr std::size_t kMaxFramesPerWrite = 32;  // 64 buffers: the kernel's iovec sweet spot
constexpr std::size_t kMaxBytesPerWrite = 256 * 1024;
constexpr std::size_t kMaxHeaderBytes = 10;
constexpr std::size_t kKeptWriteCapacity = 4;  // frames' worth of buffers an idle session keeps

std::size_t put_text_frame_header(unsigned char* out, std::size_t length) {
    out[0] = 0x81;  // FIN + text
    if (length < 126) {
        out[1] = static_cast<unsigned char>(length);
        return 2;
    }
    if (length <= 0xFFFF) {
        out[1] = 126;
        out[2] = static_cast<unsigned char>(length >> 8);
        out[3] = static_cast<unsigned char>(length);
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<unsigned char>(length >> (56 - 8 * i));
    return 10;
}
}  // namespace

void WebSocketSession::start_write() {
    if (torn_down_) return;
    auto& gate = ws_.next_layer();
    // A pong or close frame of Beast's goes first; the writer is resumed after it.
    if (!gate.begin_gathered_write([self = shared_from_this()] { self->start_write(); })) return;
    batch_.clear();
    if (!outbox_.take(batch_, kMaxFramesPerWrite, kMaxBytesPerWrite)) {
        gate.end_gathered_write({});
        release_write_buffers();
        if (close_when_drained_) close_with(websocket::close_code::going_away);
        return;
    }
    headers_.resize(batch_.size() * kMaxHeaderBytes);
    buffers_.clear();
    for (std::size_t i = 0; i < batch_.size(); ++i) {
        unsigned char* header = headers_.data() + i * kMaxHeaderBytes;
        const std::size_t header_size = put_text_frame_header(header, batch_[i]->size());
        buffers_.emplace_back(header, header_size);
        buffers_.emplace_back(batch_[i]->data(), batch_[i]->size());
    }
    write_started_ = steady_ns(std::chrono::steady_clock::now());
    asio::async_write(gate.next_layer().socket(), buffers_,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          self->on_gathered_write(ec);
                      });
}

void WebSocketSession::on_gathered_write(boost::system::error_code ec) {
    write_started_ = 0;
    batch_.clear();
    auto& gate = ws_.next_layer();
    if (ec) {
        gate.end_gathered_write({});
        teardown();
        return;
    }
    if (auto reason = std::move(close_after_write_)) {
        close_after_write_.reset();
        gate.end_gathered_write({});
        send_close(std::move(*reason));
        return;
    }
    if (gate.end_gathered_write([self = shared_from_this()] { self->start_write(); })) {
        start_write();
    }
}

void WebSocketSession::release_write_buffers() {
    if (batch_.capacity() <= kKeptWriteCapacity) return;
    std::vector<chat::Payload>().swap(batch_);
    std::vector<unsigned char>().swap(headers_);
    std::vector<asio::const_buffer>().swap(buffers_);
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
    if (write_started_ != 0) {
        close_after_write_ = std::move(reason);
    } else {
        send_close(std::move(reason));
    }
    // A client that stopped reading never lets the close frame out: cut the socket.
    kill_timer_.expires_after(std::chrono::seconds(2));
    kill_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->teardown();
    });
}

void WebSocketSession::send_close(websocket::close_reason reason) {
    ws_.async_close(reason,
                    [self = shared_from_this()](boost::system::error_code) { self->teardown(); });
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
    ws_.next_layer().cancel_waits();
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
    if (attached_) service_.detach(id_);
    if (auto done = std::move(on_close_)) done();
}

}  // namespace barertc::net
