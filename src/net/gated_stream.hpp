#pragma once
// The TCP stream under a WebSocket session, with a gate between two writers: the session's
// gathered writer (several text frames per system call, written straight to the socket) and
// Beast, which still writes the handshake answer, pongs and close frames itself, some of them
// from inside a read. Bytes of one frame must never land inside another, so each writer waits
// while the other has a frame partly written; a waiting Beast frame goes before the next
// gathered write, so a stream of chat never starves a pong.

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <functional>
#include <utility>

namespace barertc::net {

class GatedStream {
  public:
    using executor_type = boost::beast::tcp_stream::executor_type;
    using next_layer_type = boost::beast::tcp_stream;

    explicit GatedStream(boost::beast::tcp_stream&& stream)
        : next_(std::move(stream)), beast_waiter_(next_.get_executor()) {}

    executor_type get_executor() noexcept { return next_.get_executor(); }
    boost::beast::tcp_stream& next_layer() noexcept { return next_; }
    const boost::beast::tcp_stream& next_layer() const noexcept { return next_; }

    // The session's writer, on the stream's executor. Returns false when Beast is writing or
    // waiting to: `resume` is then called (posted) once Beast's frame is out, and the caller
    // tries again.
    bool begin_gathered_write(std::function<void()> resume) {
        if (beast_writing_ || beast_waiting_) {
            resume_gathered_ = std::move(resume);
            return false;
        }
        gathered_writing_ = true;
        return true;
    }
    // The gathered write completed (wholly or with an error). Returns false when a Beast frame
    // was waiting and now goes first: the writer's `resume` (as above) is called after it.
    bool end_gathered_write(std::function<void()> resume) {
        gathered_writing_ = false;
        if (!beast_waiting_) return true;
        resume_gathered_ = std::move(resume);
        beast_waiter_.cancel();
        return false;
    }

    // The connection is gone: wake a waiting Beast frame (its write then fails) and drop the
    // writer's pending resume, so nothing keeps the session alive.
    void cancel_waits() {
        beast_waiter_.cancel();
        resume_gathered_ = nullptr;
    }

    template <class MutableBufferSequence, class ReadHandler>
    auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
        return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
    }

    // Beast's writes: each call is part of one frame (Beast calls again with the rest after a
    // partial write), so the frame is done when a call writes all it was given.
    template <class ConstBufferSequence, class WriteHandler>
    auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
        return boost::asio::async_compose<WriteHandler,
                                          void(boost::system::error_code, std::size_t)>(
            BeastWrite<ConstBufferSequence>{*this, buffers}, handler, next_);
    }

  private:
    template <class ConstBufferSequence>
    struct BeastWrite {
        GatedStream& stream;
        ConstBufferSequence buffers;
        enum { starting, waiting, writing } state = starting;

        template <class Self>
        void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
            switch (state) {
                case starting:
                    if (stream.gathered_writing_) {
                        state = waiting;
                        stream.beast_waiting_ = true;
                        stream.beast_waiter_.expires_at(
                            boost::asio::steady_timer::time_point::max());
                        stream.beast_waiter_.async_wait(std::move(self));
                        return;
                    }
                    [[fallthrough]];
                case waiting:
                    // Woken by end_gathered_write (or by teardown: the write then fails).
                    stream.beast_waiting_ = false;
                    state = writing;
                    stream.beast_writing_ = true;
                    stream.next_.async_write_some(buffers, std::move(self));
                    return;
                case writing:
                    if (ec || n == boost::beast::buffer_bytes(buffers)) {
                        stream.beast_writing_ = false;
                        if (auto resume = std::move(stream.resume_gathered_)) {
                            stream.resume_gathered_ = nullptr;
                            boost::asio::post(stream.next_.get_executor(), std::move(resume));
                        }
                    }
                    self.complete(ec, n);
                    return;
            }
        }
    };

    boost::beast::tcp_stream next_;
    boost::asio::steady_timer beast_waiter_;
    bool gathered_writing_ = false;
    bool beast_writing_ = false;
    bool beast_waiting_ = false;
    std::function<void()> resume_gathered_;
};

// Closing a WebSocket over this stream closes the TCP stream underneath (Beast finds these by
// argument-dependent lookup).
inline void teardown(boost::beast::role_type role, GatedStream& stream,
                     boost::system::error_code& ec) {
    using boost::beast::websocket::teardown;
    teardown(role, stream.next_layer().socket(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, GatedStream& stream, TeardownHandler&& handler) {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer().socket(), std::forward<TeardownHandler>(handler));
}

inline void beast_close_socket(GatedStream& stream) {
    boost::system::error_code ignored;
    stream.next_layer().socket().close(ignored);
}

}  // namespace barertc::net
