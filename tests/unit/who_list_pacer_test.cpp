#include "net/who_list_pacer.hpp"

#include <gtest/gtest.h>

using barertc::net::WhoListPacer;
using namespace std::chrono_literals;

namespace {
const WhoListPacer::Clock::time_point t0{std::chrono::seconds(1000)};
}

TEST(WhoListPacer, ASingleChangeIsSentAfterTheQuietTime) {
    WhoListPacer pacer(50ms);
    auto wake = pacer.changed(t0);
    ASSERT_TRUE(wake);
    EXPECT_EQ(*wake, t0 + 50ms);
    EXPECT_FALSE(pacer.due(*wake)) << "quiet for 50 ms: send now";
}

TEST(WhoListPacer, ChangesWhileAWakeUpIsPendingDoNotArmAnother) {
    WhoListPacer pacer(50ms);
    ASSERT_TRUE(pacer.changed(t0));
    EXPECT_FALSE(pacer.changed(t0 + 10ms));
    EXPECT_FALSE(pacer.changed(t0 + 20ms));
}

TEST(WhoListPacer, SmallRoomKeepsTheOldRhythmOfOneRoundPerQuietTime) {
    // A cheap previous round: the maximum delay is the quiet time itself, so a room that
    // changes continuously still gets a round every 50 ms.
    WhoListPacer pacer(50ms);
    pacer.sent(200 * 2000);
    ASSERT_TRUE(pacer.changed(t0));
    for (auto t = t0 + 5ms; t < t0 + 50ms; t += 5ms) pacer.changed(t);
    EXPECT_FALSE(pacer.due(t0 + 50ms));
}

TEST(WhoListPacer, ABusyBigRoomWaitsForQuietUpToADelayThatGrowsWithTheRound) {
    WhoListPacer pacer(50ms);
    // The previous round was 2,000 lists of 170 KB: far over the bandwidth budget.
    pacer.sent(std::size_t{2000} * 170 * 1000);
    EXPECT_EQ(pacer.max_delay(), WhoListPacer::kMaxDelayCap);

    auto wake = pacer.changed(t0);
    ASSERT_TRUE(wake);
    // Joins keep arriving every 10 ms: every wake-up is pushed back, up to the cap.
    auto t = t0;
    int wake_ups = 0;
    while (wake) {
        while (t + 10ms < *wake) {
            t += 10ms;
            pacer.changed(t);
        }
        wake = pacer.due(*wake);
        ++wake_ups;
        ASSERT_LT(wake_ups, 1000);
    }
    EXPECT_GE(t, t0 + WhoListPacer::kMaxDelayCap - 20ms) << "sent only at the cap";
}

TEST(WhoListPacer, AStormThatStopsIsAnsweredOneQuietTimeAfterTheLastJoin) {
    WhoListPacer pacer(50ms);
    pacer.sent(std::size_t{500} * 1024 * 1024);
    ASSERT_TRUE(pacer.changed(t0));
    pacer.changed(t0 + 30ms);
    // The first wake-up (t0 + 50 ms) finds a change 20 ms old: wait until 30 + 50 ms.
    auto again = pacer.due(t0 + 50ms);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, t0 + 80ms);
    EXPECT_FALSE(pacer.due(*again));
    // The next change starts a new wait.
    EXPECT_TRUE(pacer.changed(t0 + 200ms));
}

TEST(WhoListPacer, ZeroQuietTimeSendsEveryChangeAtOnce) {
    WhoListPacer pacer(0ms);
    auto wake = pacer.changed(t0);
    ASSERT_TRUE(wake);
    EXPECT_EQ(*wake, t0);
    EXPECT_FALSE(pacer.due(t0));
}
