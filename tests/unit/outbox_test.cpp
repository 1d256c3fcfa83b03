// The outbox policy: bounded in bytes, one writer at a time, who lists coalesced.

#include "net/outbox.hpp"

#include <gtest/gtest.h>

namespace {

using barertc::chat::make_payload;
using barertc::chat::Payload;
using barertc::chat::PayloadKind;
using barertc::net::Outbox;
using namespace std::chrono_literals;

Outbox::Limits limits(std::size_t soft, std::size_t hard, std::chrono::seconds soft_for = 10s) {
    return Outbox::Limits{soft, soft_for, hard};
}

TEST(Outbox, FirstPushStartsTheWriterAndLaterPushesQueue) {
    Outbox box(limits(1000, 2000));
    const auto now = Outbox::Clock::now();
    EXPECT_EQ(box.push(make_payload("a"), PayloadKind::Message, now), Outbox::Push::StartWrite);
    EXPECT_EQ(box.push(make_payload("b"), PayloadKind::Message, now), Outbox::Push::Queued);
    EXPECT_EQ(*box.next().value(), "a");
    EXPECT_EQ(*box.next().value(), "b");
    EXPECT_FALSE(box.next().has_value());
    // The writer stopped; the next push must start it again.
    EXPECT_EQ(box.push(make_payload("c"), PayloadKind::Message, now), Outbox::Push::StartWrite);
}

TEST(Outbox, ManySmallMessagesAreFineWhereACountLimitWouldDrop) {
    Outbox box(limits(1 << 20, 1 << 21));
    const auto now = Outbox::Clock::now();
    for (int i = 0; i < 1000; ++i) {
        ASSERT_NE(box.push(make_payload("{\"action\":\"message\"}"), PayloadKind::Message, now),
                  Outbox::Push::Overflow);
    }
    EXPECT_EQ(box.queued_frames(), 1000u);
}

TEST(Outbox, NewerWhoListReplacesTheWaitingOneInPlace) {
    Outbox box(limits(1000, 2000));
    const auto now = Outbox::Clock::now();
    box.push(make_payload("m1"), PayloadKind::Message, now);
    box.push(make_payload("who-1"), PayloadKind::WhoList, now);
    box.push(make_payload("m2"), PayloadKind::Message, now);
    box.push(make_payload("who-2-longer"), PayloadKind::WhoList, now);
    EXPECT_EQ(box.queued_frames(), 3u);
    EXPECT_EQ(box.queued_bytes(), std::string("m1who-2-longerm2").size());
    EXPECT_EQ(*box.next().value(), "m1");
    EXPECT_EQ(*box.next().value(), "who-2-longer");
    EXPECT_EQ(*box.next().value(), "m2");
}

TEST(Outbox, WhoListAlreadyTakenByTheWriterIsNotReplaced) {
    Outbox box(limits(1000, 2000));
    const auto now = Outbox::Clock::now();
    box.push(make_payload("who-1"), PayloadKind::WhoList, now);
    EXPECT_EQ(*box.next().value(), "who-1");  // in flight now
    box.push(make_payload("who-2"), PayloadKind::WhoList, now);
    box.push(make_payload("who-3"), PayloadKind::WhoList, now);
    EXPECT_EQ(*box.next().value(), "who-3");
    EXPECT_FALSE(box.next().has_value());
}

TEST(Outbox, OverTheHardLimitOverflowsAtOnce) {
    Outbox box(limits(10, 20));
    const auto now = Outbox::Clock::now();
    EXPECT_NE(box.push(make_payload(std::string(15, 'x')), PayloadKind::Message, now),
              Outbox::Push::Overflow);
    EXPECT_EQ(box.push(make_payload(std::string(10, 'y')), PayloadKind::Message, now),
              Outbox::Push::Overflow);
}

TEST(Outbox, OverTheSoftLimitOnlyOverflowsWhenItLasts) {
    Outbox box(limits(10, 1000, 5s));
    const auto t0 = Outbox::Clock::now();
    EXPECT_NE(box.push(make_payload(std::string(15, 'x')), PayloadKind::Message, t0),
              Outbox::Push::Overflow);
    EXPECT_FALSE(box.stuck(t0 + 4s));
    EXPECT_TRUE(box.stuck(t0 + 6s));
    EXPECT_EQ(box.push(make_payload("z"), PayloadKind::Message, t0 + 6s), Outbox::Push::Overflow);
}

TEST(Outbox, DrainingBelowTheSoftLimitResetsTheClock) {
    Outbox box(limits(10, 1000, 5s));
    const auto t0 = Outbox::Clock::now();
    box.push(make_payload(std::string(15, 'x')), PayloadKind::Message, t0);
    ASSERT_TRUE(box.next().has_value());
    EXPECT_FALSE(box.stuck(t0 + 60s));
    EXPECT_NE(box.push(make_payload(std::string(15, 'x')), PayloadKind::Message, t0 + 60s),
              Outbox::Push::Overflow);
}

TEST(Outbox, ClosedOutboxDiscardsEverything) {
    Outbox box(limits(1000, 2000));
    const auto now = Outbox::Clock::now();
    box.push(make_payload("a"), PayloadKind::Message, now);
    box.close();
    EXPECT_EQ(box.queued_bytes(), 0u);
    EXPECT_EQ(box.push(make_payload("b"), PayloadKind::Message, now), Outbox::Push::Closed);
    EXPECT_FALSE(box.next().has_value());
}

TEST(Outbox, SharedPayloadIsNotCopied) {
    Outbox a(limits(1000, 2000)), b(limits(1000, 2000));
    const auto now = Outbox::Clock::now();
    Payload p = make_payload("shared");
    a.push(p, PayloadKind::Message, now);
    b.push(p, PayloadKind::Message, now);
    EXPECT_EQ(a.next().value().get(), p.get());
    EXPECT_EQ(b.next().value().get(), p.get());
}

}  // namespace

TEST(OutboxTake, GathersQueuedFramesInOrderWithinTheBounds) {
    Outbox box(limits(1 << 20, 1 << 21));
    const auto now = Outbox::Clock::now();
    for (const char* f : {"aa", "bb", "cc", "dd", "ee"}) {
        box.push(make_payload(f), PayloadKind::Message, now);
    }
    std::vector<Payload> batch;
    ASSERT_TRUE(box.take(batch, 3, 1000));
    ASSERT_EQ(batch.size(), 3u);
    EXPECT_EQ(*batch[0], "aa");
    EXPECT_EQ(*batch[2], "cc");
    EXPECT_EQ(box.queued_frames(), 2u);
    EXPECT_EQ(box.queued_bytes(), 4u);

    batch.clear();
    ASSERT_TRUE(box.take(batch, 10, 3));  // byte bound: "dd" fits, "ee" would pass 3 bytes
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(*batch[0], "dd");
}

TEST(OutboxTake, AFrameBiggerThanTheByteBoundStillGoesAlone) {
    Outbox box(limits(1 << 20, 1 << 21));
    const auto now = Outbox::Clock::now();
    box.push(make_payload(std::string(5000, 'x')), PayloadKind::Message, now);
    box.push(make_payload("small"), PayloadKind::Message, now);
    std::vector<Payload> batch;
    ASSERT_TRUE(box.take(batch, 10, 1000));
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(batch[0]->size(), 5000u);
}

TEST(OutboxTake, EmptyQueueStopsTheWriterSoTheNextPushStartsIt) {
    Outbox box(limits(1000, 2000));
    const auto now = Outbox::Clock::now();
    ASSERT_EQ(box.push(make_payload("a"), PayloadKind::Message, now), Outbox::Push::StartWrite);
    std::vector<Payload> batch;
    ASSERT_TRUE(box.take(batch, 10, 1000));
    EXPECT_EQ(box.push(make_payload("b"), PayloadKind::Message, now), Outbox::Push::Queued);
    batch.clear();
    ASSERT_TRUE(box.take(batch, 10, 1000));
    batch.clear();
    EXPECT_FALSE(box.take(batch, 10, 1000));
    EXPECT_EQ(box.push(make_payload("c"), PayloadKind::Message, now), Outbox::Push::StartWrite);
}

TEST(OutboxTake, WhoListTakenInABatchIsNoLongerReplaced) {
    Outbox box(limits(1 << 20, 1 << 21));
    const auto now = Outbox::Clock::now();
    box.push(make_payload("m1"), PayloadKind::Message, now);
    box.push(make_payload("who1"), PayloadKind::WhoList, now);
    std::vector<Payload> batch;
    ASSERT_TRUE(box.take(batch, 10, 1000));
    ASSERT_EQ(batch.size(), 2u);
    // The writer holds who1; a newer list queues behind instead of replacing it.
    box.push(make_payload("who2"), PayloadKind::WhoList, now);
    box.push(make_payload("who3"), PayloadKind::WhoList, now);
    EXPECT_EQ(*batch[1], "who1");
    batch.clear();
    ASSERT_TRUE(box.take(batch, 10, 1000));
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(*batch[0], "who3");
}
