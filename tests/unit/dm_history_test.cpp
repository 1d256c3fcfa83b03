// DM history on a real SQLite file: paging, partner lists, exact-match clearing, take-back
// rules, durability across a reopen, and errors instead of crashes on a bad or locked file.

#include "store/dm_history.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using barertc::store::DmHistory;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class DmHistoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        static std::atomic<int> counter{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / ("barertc_dm_" + std::to_string(::getpid()) + "_" +
                                            info->name() + "_" + std::to_string(counter++));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        path_ = (dir_ / "history.sqlite").string();
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::unique_ptr<DmHistory> open_db(std::chrono::milliseconds busy = 5s) {
        std::string error;
        auto db = DmHistory::open(path_, error, busy);
        EXPECT_NE(db, nullptr) << error;
        EXPECT_EQ(error, "");
        return db;
    }

    static std::vector<std::int64_t> ids(const DmHistory::Page& page) {
        std::vector<std::int64_t> out;
        for (const auto& row : page.messages) out.push_back(row.id);
        return out;
    }

    static std::vector<std::int64_t> range_desc(std::int64_t from, std::int64_t to) {
        std::vector<std::int64_t> out;
        for (auto i = from; i >= to; --i) out.push_back(i);
        return out;
    }

    // Rows in the whole table, counted over a separate connection.
    std::int64_t raw_count() const {
        sqlite3* db = nullptr;
        EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        std::int64_t n = -1;
        if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM direct_messages", -1, &s, nullptr) ==
                SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW) {
            n = sqlite3_column_int64(s, 0);
        }
        sqlite3_finalize(s);
        sqlite3_close(db);
        return n;
    }

    fs::path dir_;
    std::string path_;
};

TEST_F(DmHistoryTest, ChannelIdSortsTheNamesByByte) {
    EXPECT_EQ(DmHistory::channel_id("bob", "alice"), "@alice:@bob");
    EXPECT_EQ(DmHistory::channel_id("alice", "bob"), "@alice:@bob");
    // Byte order, not case-insensitive: 'B' (0x42) sorts before 'a' (0x61).
    EXPECT_EQ(DmHistory::channel_id("alice", "Bob"), "@Bob:@alice");
    EXPECT_EQ(DmHistory::channel_id("me", "me"), "@me:@me");
}

TEST_F(DmHistoryTest, CreatesTheTableAndIndexesInWalMode) {
    { auto db = open_db(); }
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw,
                                 "SELECT name FROM sqlite_master WHERE tbl_name ="
                                 " 'direct_messages' ORDER BY name",
                                 -1, &s, nullptr),
              SQLITE_OK);
    std::vector<std::string> names;
    while (sqlite3_step(s) == SQLITE_ROW) {
        names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    }
    sqlite3_finalize(s);
    ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    const std::string mode = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(raw);

    EXPECT_EQ(names, (std::vector<std::string>{"direct_messages", "idx_direct_messages_channel_id",
                                               "idx_direct_messages_timestamp",
                                               "idx_direct_messages_username"}));
    EXPECT_EQ(mode, "wal");
}

TEST_F(DmHistoryTest, InsertThenFlushIsVisibleWithAllFields) {
    auto db = open_db();
    db->insert(1751478803, "alice", "bob", "<p>hello!</p>", 1751478800);
    db->flush();
    EXPECT_EQ(raw_count(), 1);

    const auto page = db->history("bob", "alice", 0);
    EXPECT_EQ(page.error, "");
    ASSERT_EQ(page.messages.size(), 1u);
    EXPECT_EQ(page.messages[0].id, 1751478803);
    EXPECT_EQ(page.messages[0].username, "alice");
    EXPECT_EQ(page.messages[0].message, "<p>hello!</p>");
    EXPECT_EQ(page.messages[0].timestamp, 1751478800);
    EXPECT_EQ(page.remaining, 0);
}

TEST_F(DmHistoryTest, ReadsSeeInsertsQueuedBeforeThemWithoutAFlush) {
    auto db = open_db();
    for (int i = 1; i <= 50; ++i) db->insert(i, "alice", "bob", "m", 100);
    EXPECT_EQ(db->history("alice", "bob", 0).messages.size(), 20u);
    EXPECT_EQ(db->max_message_id(), 50);
}

TEST_F(DmHistoryTest, EmptyThreadIsAnEmptyPage) {
    auto db = open_db();
    const auto page = db->history("alice", "bob", 0);
    EXPECT_EQ(page.error, "");
    EXPECT_TRUE(page.messages.empty());
    EXPECT_EQ(page.remaining, 0);
}

TEST_F(DmHistoryTest, HistoryIsNewestFirstInPagesOfTwenty) {
    auto db = open_db();
    // 45 messages in alice/bob, interleaved with another thread that must not show up.
    for (int i = 1; i <= 45; ++i) {
        db->insert(1000 + i, i % 2 ? "alice" : "bob", i % 2 ? "bob" : "alice",
                   "msg " + std::to_string(i), 5000 + i);
        db->insert(2000 + i, "alice", "carol", "other", 5000 + i);
    }

    const auto first = db->history("alice", "bob", 0);
    EXPECT_EQ(ids(first), range_desc(1045, 1026));
    EXPECT_EQ(first.remaining, 25);
    EXPECT_EQ(first.messages.front().message, "msg 45");
    EXPECT_EQ(first.messages.front().username, "alice");
    EXPECT_EQ(first.messages[1].username, "bob");

    const auto second = db->history("bob", "alice", first.messages.back().id);
    EXPECT_EQ(ids(second), range_desc(1025, 1006));
    EXPECT_EQ(second.remaining, 5);

    const auto third = db->history("alice", "bob", second.messages.back().id);
    EXPECT_EQ(ids(third), range_desc(1005, 1001));
    EXPECT_EQ(third.remaining, 0);

    const auto past_the_end = db->history("alice", "bob", 1001);
    EXPECT_TRUE(past_the_end.messages.empty());
    EXPECT_EQ(past_the_end.remaining, 0);

    // A cursor between ids: strictly smaller ids only.
    const auto mid = db->history("alice", "bob", 1010);
    EXPECT_EQ(ids(mid), range_desc(1009, 1001));
    EXPECT_EQ(mid.remaining, 0);
}

TEST_F(DmHistoryTest, UsernamesSortOrdersAndCounts) {
    auto db = open_db();
    db->insert(1, "alice", "me", "a1", 100);
    db->insert(2, "bob", "me", "b1", 200);
    db->insert(3, "carol", "me", "c1", 300);
    db->insert(4, "alice", "me", "a2", 500);
    db->insert(5, "me", "alice", "mine", 600);
    // A thread where only "me" wrote: counted, but dave is not listed (api.md §13 quirk).
    db->insert(6, "me", "dave", "hello?", 700);
    // Not involving me at all.
    db->insert(7, "x", "y", "elsewhere", 800);

    const auto az = db->usernames("me", "a-z", 1);
    EXPECT_EQ(az.error, "");
    EXPECT_EQ(az.usernames, (std::vector<std::string>{"alice", "bob", "carol"}));
    EXPECT_EQ(az.count, 4);
    EXPECT_EQ(az.pages, 1);

    EXPECT_EQ(db->usernames("me", "z-a", 1).usernames,
              (std::vector<std::string>{"carol", "bob", "alice"}));
    // Oldest: by each partner's earliest message; newest: by their latest.
    EXPECT_EQ(db->usernames("me", "oldest", 1).usernames,
              (std::vector<std::string>{"alice", "bob", "carol"}));
    EXPECT_EQ(db->usernames("me", "newest", 1).usernames,
              (std::vector<std::string>{"alice", "carol", "bob"}));
    EXPECT_EQ(db->usernames("me", "anything else", 1).usernames,
              (std::vector<std::string>{"alice", "carol", "bob"}));

    // From the other side: alice's only partner is me.
    const auto alice = db->usernames("alice", "a-z", 1);
    EXPECT_EQ(alice.usernames, (std::vector<std::string>{"me"}));
    EXPECT_EQ(alice.count, 1);
}

TEST_F(DmHistoryTest, UsernamesPagesOfNine) {
    auto db = open_db();
    for (int i = 0; i < 10; ++i) {
        db->insert(i + 1, "user" + std::to_string(i), "me", "hi", 100 + i);
    }
    const auto first = db->usernames("me", "a-z", 1);
    EXPECT_EQ(first.count, 10);
    EXPECT_EQ(first.pages, 2);
    ASSERT_EQ(first.usernames.size(), 9u);
    EXPECT_EQ(first.usernames.front(), "user0");

    const auto second = db->usernames("me", "a-z", 2);
    EXPECT_EQ(second.usernames, (std::vector<std::string>{"user9"}));
    EXPECT_EQ(second.pages, 2);

    EXPECT_EQ(db->usernames("me", "a-z", 0).usernames, first.usernames);
    EXPECT_EQ(db->usernames("me", "a-z", -5).usernames, first.usernames);
    EXPECT_TRUE(db->usernames("me", "a-z", 3).usernames.empty());
    EXPECT_TRUE(db->usernames("me", "a-z", INT64_MAX).usernames.empty());
}

TEST_F(DmHistoryTest, UsernamesWithoutThreadsIsAnError) {
    auto db = open_db();
    db->insert(1, "x", "y", "elsewhere", 800);
    const auto none = db->usernames("me", "newest", 1);
    EXPECT_EQ(none.error, "you have no direct messages stored on this chat server");
    EXPECT_TRUE(none.usernames.empty());
    EXPECT_EQ(none.count, 0);
    EXPECT_EQ(none.pages, 0);
}

TEST_F(DmHistoryTest, UsernamesMatchNamesExactly) {
    auto db = open_db();
    db->insert(1, "alice", "a_c", "hi", 100);
    db->insert(2, "bob", "abc", "hi", 100);
    db->insert(3, "carol", "%", "hi", 100);
    const auto underscore = db->usernames("a_c", "a-z", 1);
    EXPECT_EQ(underscore.usernames, (std::vector<std::string>{"alice"}));
    EXPECT_EQ(underscore.count, 1);
    const auto percent = db->usernames("%", "a-z", 1);
    EXPECT_EQ(percent.usernames, (std::vector<std::string>{"carol"}));
    EXPECT_EQ(percent.count, 1);
}

TEST_F(DmHistoryTest, ClearRemovesBothDirectionsAndOwnRows) {
    auto db = open_db();
    db->insert(1, "me", "alice", "to alice", 100);
    db->insert(2, "alice", "me", "from alice", 101);
    db->insert(3, "bob", "me", "from bob", 102);
    db->insert(4, "me", "me", "note to self", 103);
    db->insert(5, "alice", "bob", "not mine", 104);
    db->insert(6, "zed", "carol", "not mine either", 105);

    const auto cleared = db->clear("me");
    EXPECT_EQ(cleared.error, "");
    EXPECT_EQ(cleared.erased, 4);
    EXPECT_TRUE(db->history("me", "alice", 0).messages.empty());
    EXPECT_TRUE(db->history("alice", "me", 0).messages.empty());
    EXPECT_TRUE(db->history("me", "bob", 0).messages.empty());
    EXPECT_EQ(ids(db->history("alice", "bob", 0)), (std::vector<std::int64_t>{5}));
    EXPECT_EQ(ids(db->history("carol", "zed", 0)), (std::vector<std::int64_t>{6}));

    EXPECT_EQ(db->clear("me").erased, 0);
}

TEST_F(DmHistoryTest, ClearDeletesRowsTheUserSentInForeignThreads) {
    auto db = open_db();
    db->insert(1, "x", "y", "normal", 100);
    db->flush();
    // A row whose sender is not a party of its thread (e.g. written by an older server).
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "INSERT INTO direct_messages VALUES (2, '@x:@y', 'me', 'odd', 1)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);

    EXPECT_EQ(db->clear("me").erased, 1);
    EXPECT_EQ(ids(db->history("x", "y", 0)), (std::vector<std::int64_t>{1}));
}

TEST_F(DmHistoryTest, ClearTreatsWildcardCharactersLiterally) {
    auto db = open_db();
    db->insert(1, "a_c", "zed", "mine", 100);
    db->insert(2, "abc", "zed", "look-alike prefix", 100);
    db->insert(3, "bob", "x_y", "mine too", 100);
    db->insert(4, "bob", "xzy", "look-alike suffix", 100);
    db->insert(5, "alice", "bob", "anyone", 100);
    db->insert(6, "%", "zed", "percent", 100);

    EXPECT_EQ(db->clear("a_c").erased, 1);
    EXPECT_EQ(db->clear("x_y").erased, 1);
    EXPECT_EQ(db->clear("%").erased, 1);
    EXPECT_EQ(db->clear("_").erased, 0);
    EXPECT_EQ(db->clear("").erased, 0);
    EXPECT_EQ(raw_count(), 3);
    EXPECT_EQ(ids(db->history("abc", "zed", 0)), (std::vector<std::int64_t>{2}));
    EXPECT_EQ(ids(db->history("xzy", "bob", 0)), (std::vector<std::int64_t>{4}));
    EXPECT_EQ(ids(db->history("alice", "bob", 0)), (std::vector<std::int64_t>{5}));
}

TEST_F(DmHistoryTest, ClearOfANameThatIsAPrefixOfAnotherKeepsTheOther) {
    auto db = open_db();
    db->insert(1, "al", "zed", "short name", 100);
    db->insert(2, "alice", "zed", "longer name", 100);
    db->insert(3, "zed", "al:@x", "name with the separator", 100);
    EXPECT_EQ(db->clear("al").erased, 1);
    EXPECT_EQ(raw_count(), 2);
}

TEST_F(DmHistoryTest, DeleteMessageOwnershipRules) {
    auto db = open_db();
    db->insert(1, "alice", "bob", "alice's", 100);
    db->insert(2, "bob", "alice", "bob's", 101);
    db->insert(3, "bob", "alice", "bob's second", 102);

    // A user may take back only what they sent.
    EXPECT_FALSE(db->delete_message(2, "alice", false));
    EXPECT_TRUE(db->delete_message(1, "alice", false));
    EXPECT_FALSE(db->delete_message(1, "alice", false));
    // An operator may delete anyone's, and is told whether a row was there.
    EXPECT_TRUE(db->delete_message(2, "op", true));
    EXPECT_FALSE(db->delete_message(99, "op", true));
    EXPECT_EQ(ids(db->history("alice", "bob", 0)), (std::vector<std::int64_t>{3}));
}

TEST_F(DmHistoryTest, MaxMessageId) {
    auto db = open_db();
    EXPECT_EQ(db->max_message_id(), 0);
    db->insert(1751478803, "alice", "bob", "a", 100);
    db->insert(42, "alice", "bob", "b", 100);
    EXPECT_EQ(db->max_message_id(), 1751478803);
}

TEST_F(DmHistoryTest, DuplicateIdIsDroppedAndLaterInsertsStillWork) {
    auto db = open_db();
    db->insert(7, "alice", "bob", "first", 100);
    db->insert(7, "alice", "bob", "duplicate", 101);
    db->insert(8, "alice", "bob", "after", 102);
    db->flush();
    const auto page = db->history("alice", "bob", 0);
    ASSERT_EQ(ids(page), (std::vector<std::int64_t>{8, 7}));
    EXPECT_EQ(page.messages[1].message, "first");
}

TEST_F(DmHistoryTest, PruneDeletesOnlyOlderRows) {
    auto db = open_db();
    const std::int64_t now = 1'750'000'000;
    const std::int64_t day = 86400;
    db->insert(1, "a", "b", "ten days old", now - 10 * day);
    db->insert(2, "a", "b", "two days old", now - 2 * day);
    db->insert(3, "a", "b", "fresh", now);

    EXPECT_EQ(db->prune_older_than(0, now), "");
    EXPECT_EQ(db->prune_older_than(-3, now), "");
    EXPECT_EQ(db->prune_older_than(INT64_MAX, now), "");
    EXPECT_EQ(raw_count(), 3);

    EXPECT_EQ(db->prune_older_than(5, now), "");
    EXPECT_EQ(ids(db->history("a", "b", 0)), (std::vector<std::int64_t>{3, 2}));
    EXPECT_EQ(db->prune_older_than(1, now), "");
    EXPECT_EQ(ids(db->history("a", "b", 0)), (std::vector<std::int64_t>{3}));
}

TEST_F(DmHistoryTest, RowsSurviveDestructionAndReopen) {
    {
        auto db = open_db();
        // No flush: the destructor must write everything still queued.
        for (int i = 1; i <= 500; ++i) {
            db->insert(i, "alice", "bob", "msg " + std::to_string(i), 1000 + i);
        }
    }
    auto db = open_db();
    EXPECT_EQ(db->max_message_id(), 500);
    const auto page = db->history("bob", "alice", 0);
    EXPECT_EQ(page.messages.front().message, "msg 500");
    EXPECT_EQ(page.remaining, 480);
}

TEST_F(DmHistoryTest, ConcurrentInsertersAllLand) {
    auto db = open_db();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&db, t] {
            for (int i = 0; i < 250; ++i) {
                db->insert(t * 1000 + i + 1, "u" + std::to_string(t), "me", "x", 100);
            }
        });
    }
    for (auto& th : threads) th.join();
    db->flush();
    EXPECT_EQ(raw_count(), 1000);
    EXPECT_EQ(db->usernames("me", "a-z", 1).count, 4);
}

TEST_F(DmHistoryTest, CorruptFileIsAnErrorNotACrash) {
    {
        std::ofstream out(path_, std::ios::binary);
        std::string garbage(8192, '\0');
        for (std::size_t i = 0; i < garbage.size(); ++i) {
            garbage[i] = static_cast<char>((i * 7919 + 13) % 251);
        }
        out << garbage;
    }
    std::string error;
    auto db = DmHistory::open(path_, error);
    EXPECT_EQ(db, nullptr);
    EXPECT_NE(error, "");
}

TEST_F(DmHistoryTest, UnwritableLocationIsAnError) {
    std::string error;
    auto db = DmHistory::open((dir_ / "missing" / "folder" / "h.sqlite").string(), error);
    EXPECT_EQ(db, nullptr);
    EXPECT_NE(error, "");
}

TEST_F(DmHistoryTest, LockedDatabaseGivesAnErrorValue) {
    auto db = open_db(50ms);
    db->insert(1, "alice", "bob", "before the lock", 100);
    db->flush();

    // Another process holds the write lock.
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

    const auto cleared = db->clear("alice");
    EXPECT_NE(cleared.error, "");
    EXPECT_EQ(cleared.erased, 0);
    EXPECT_FALSE(db->delete_message(1, "op", true));
    // Readers are not blocked by a writer in WAL mode.
    EXPECT_EQ(db->history("alice", "bob", 0).messages.size(), 1u);

    ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    EXPECT_EQ(db->clear("alice").erased, 1);
}

}  // namespace
