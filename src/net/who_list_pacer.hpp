#pragma once
// When to send the next round of who lists. A round goes to every user and grows with the
// square of the room (n users × a list of n entries), so during a join storm in a big room
// rounds every few milliseconds would bury the logins under megabytes of lists that are stale
// before they are written. The pacer waits for the room to be quiet for `quiet` (the
// WhoListDebounceMs setting), but never longer than a delay that grows with the cost of the
// previous round, so a room that keeps changing still gets lists regularly.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>

namespace barertc::net {

class WhoListPacer {
  public:
    using Clock = std::chrono::steady_clock;

    // Rounds may use about this much of the write bandwidth while the room keeps changing.
    static constexpr double kBytesPerSecond = 256.0 * 1024 * 1024;
    // A changing room still gets a round at least this often.
    static constexpr std::chrono::milliseconds kMaxDelayCap{1000};

    explicit WhoListPacer(std::chrono::milliseconds quiet) : quiet_(quiet) {}

    void set_quiet(std::chrono::milliseconds quiet) { quiet_ = quiet; }

    // The who list changed at `now`. Returns when to wake up if no wake-up is pending.
    std::optional<Clock::time_point> changed(Clock::time_point now) {
        last_change_ = now;
        if (pending_) return std::nullopt;
        pending_ = true;
        first_change_ = now;
        return now + quiet_;
    }

    // The wake-up came: returns a later time to wake up again (the room is still changing and
    // the delay allows it), or nullopt to send the round now.
    std::optional<Clock::time_point> due(Clock::time_point now) {
        const auto quiet_until = last_change_ + quiet_;
        const auto deadline = first_change_ + max_delay();
        if (now < quiet_until && now < deadline) return std::min(quiet_until, deadline);
        pending_ = false;
        return std::nullopt;
    }

    // A round of `bytes` (all lists together) was sent.
    void sent(std::size_t bytes) { last_round_bytes_ = bytes; }

    std::chrono::milliseconds max_delay() const {
        const auto cost = std::chrono::milliseconds(static_cast<std::int64_t>(
            static_cast<double>(last_round_bytes_) * 1000.0 / kBytesPerSecond));
        return std::clamp(cost, quiet_, std::max(quiet_, kMaxDelayCap));
    }

  private:
    std::chrono::milliseconds quiet_;
    bool pending_ = false;
    Clock::time_point first_change_{};
    Clock::time_point last_change_{};
    std::size_t last_round_bytes_ = 0;
};

}  // namespace barertc::net
