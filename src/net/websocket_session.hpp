#pragma once
// One WebSocket client: reads frames and hands parsed messages to the chat service; writes
// what the room delivers from a byte-bounded outbox, one write in flight at a time, gathering
// the frames that queued up meanwhile into that one write.

#include "chat/protocol.hpp"
#include "net/chat_service.hpp"
#include "net/connection.hpp"
#include "net/gated_stream.hpp"
#include "net/http_types.hpp"
#include "net/outbox.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace barertc::net {

struct WebSocketOptions {
    std::size_t read_limit = 41943040;
    std::chrono::seconds send_timeout{10};
    std::chrono::seconds handshake_timeout{30};
    // [Limits] WebSocketIdleTimeout: no frame from the client for this long closes the socket;
    // 0 = never.
    std::chrono::seconds idle_timeout{0};
    std::chrono::seconds ping_interval{30};
    Outbox::Limits outbox;
    // Where frames of kLargeFrameBytes or more are parsed (none: on the network thread).
    boost::asio::any_io_executor large_frame_executor;
};

class WebSocketSession : public Connection, public std::enable_shared_from_this<WebSocketSession> {
  public:
    WebSocketSession(boost::beast::tcp_stream&& stream, ChatService& service,
                     WebSocketOptions options, std::string remote_address);

    void run(Request req);
    // Runs once when the connection is gone (releases its connection slot).
    void on_close(std::function<void()> fn) { on_close_ = std::move(fn); }

    void deliver(const chat::Payload& payload, chat::PayloadKind kind) override;
    void check_health(std::chrono::steady_clock::time_point now) override;
    void close_going_away() override;
    std::size_t queued_bytes() const override { return outbox_.queued_bytes(); }

    // Close code and reason for a client that cannot keep up (protocol.md §17).
    static constexpr std::size_t kLargeFrameBytes = 64 * 1024;
    static constexpr std::string_view kTooSlowReason =
        "connection too slow to keep up with messages";

  private:
    void on_accept(boost::system::error_code ec);
    void do_read();
    void on_read(boost::system::error_code ec, std::size_t bytes);
    void handle_parsed(chat::ParseResult parsed);
    void start_write();
    void on_gathered_write(boost::system::error_code ec);
    void schedule_ping();
    void close_slow();
    void close_with(boost::beast::websocket::close_reason reason);
    void send_close(boost::beast::websocket::close_reason reason);
    void release_write_buffers();
    void teardown();

    boost::beast::websocket::stream<GatedStream> ws_;
    boost::beast::flat_buffer buffer_;
    ChatService& service_;
    WebSocketOptions options_;
    std::string remote_address_;
    chat::SessionId id_;
    Outbox outbox_;
    boost::asio::steady_timer ping_timer_;
    boost::asio::steady_timer kill_timer_;
    // steady_clock nanoseconds when the write in flight started; 0 when idle.
    std::atomic<std::int64_t> write_started_{0};
    std::atomic<bool> closing_{false};
    // The write in flight: its frames, their WebSocket headers and the gathered buffers.
    std::vector<chat::Payload> batch_;
    std::vector<unsigned char> headers_;
    std::vector<boost::asio::const_buffer> buffers_;
    // A close that waits for the write in flight, so its frame is not cut into.
    std::optional<boost::beast::websocket::close_reason> close_after_write_;
    bool attached_ = false;
    bool close_when_drained_ = false;
    bool torn_down_ = false;
    std::function<void()> on_close_;
};

}  // namespace barertc::net
