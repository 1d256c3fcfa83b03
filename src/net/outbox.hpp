#pragma once
// A connection's queue of frames waiting to be written, bounded in bytes rather than in
// messages (design.md §4): a burst of small messages never drops a client, a client that
// stopped reading is dropped once its backlog stays large. A who list still waiting is
// replaced by a newer one instead of queuing both.

#include "chat/room.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace barertc::net {

class Outbox {
  public:
    using Clock = std::chrono::steady_clock;

    struct Limits {
        std::size_t soft_bytes = 4 * 1024 * 1024;
        std::chrono::seconds soft_duration{15};
        std::size_t hard_bytes = 128 * 1024 * 1024;
    };

    enum class Push {
        Queued,      // a write is already in flight; it will pick this frame up
        StartWrite,  // the caller must start the writer
        Overflow,    // the client is stuck: drop it
        Closed,      // the connection is closing; the frame was discarded
    };

    explicit Outbox(Limits limits) : limits_(limits) {}

    // The bounds configured in [Limits], the same for every transport.
    static Limits limits_from(const config::Limits& l) {
        Limits out;
        out.soft_bytes = static_cast<std::size_t>(std::max<std::int64_t>(0, l.outbox_soft_bytes));
        out.soft_duration = std::chrono::seconds(std::max<std::int64_t>(0, l.outbox_soft_seconds));
        out.hard_bytes = static_cast<std::size_t>(std::max<std::int64_t>(0, l.outbox_hard_bytes));
        return out;
    }

    // Thread-safe: called by whoever delivers (the room's strand).
    Push push(chat::Payload payload, chat::PayloadKind kind, Clock::time_point now);

    // Called by the writer: the next frame to write, or nullopt when the queue is empty (the
    // writer then stops, and the next push says StartWrite again).
    std::optional<chat::Payload> next();

    // Called by a writer that sends several frames at once: moves up to `max_frames` frames
    // (and at least one, however big) totalling at most `max_bytes` into `out`. Returns false
    // when the queue is empty (the writer then stops, as with next()).
    bool take(std::vector<chat::Payload>& out, std::size_t max_frames, std::size_t max_bytes);

    // True when the backlog has stayed above the soft limit for longer than allowed.
    bool stuck(Clock::time_point now) const;

    // Discards everything queued and refuses further frames.
    void close();

    std::size_t queued_bytes() const;
    std::size_t queued_frames() const;

  private:
    bool over_limits(Clock::time_point now);
    chat::Payload pop_front();  // with the mutex held

    const Limits limits_;
    mutable std::mutex mutex_;
    std::deque<chat::Payload> frames_;
    std::size_t bytes_ = 0;
    bool writing_ = false;
    bool closed_ = false;
    // Position of the waiting who list as an absolute sequence number (front_seq_ is the
    // number of the frame at the front of the queue).
    std::uint64_t front_seq_ = 0;
    std::optional<std::uint64_t> who_seq_;
    std::optional<Clock::time_point> over_soft_since_;
};

}  // namespace barertc::net
