#pragma once
// Stored direct messages (features.md §6) in one SQLite file, compatible with the original's
// table. All database work runs on one writer thread that owns the connection: inserts are
// queued so the chat thread never waits on disk, and reads and deletions are queued behind
// them, so a read always sees every insert queued before it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace barertc::store {

class DmHistory {
  public:
    static constexpr std::int64_t kHistoryPageSize = 20;
    static constexpr std::int64_t kUsernamesPageSize = 9;

    struct Row {
        std::string username;  // sender
        std::string message;   // stored HTML
        std::int64_t id = 0;
        std::int64_t timestamp = 0;  // Unix seconds
    };

    // One page of a thread, newest first. `remaining` counts the older rows below the oldest
    // one returned. `error` is non-empty on a database error (then the rest is empty).
    struct Page {
        std::vector<Row> messages;
        std::int64_t remaining = 0;
        std::string error;
    };

    struct UsernamesPage {
        std::vector<std::string> usernames;
        std::int64_t count = 0;  // number of threads involving the caller, not of usernames
        std::int64_t pages = 0;
        std::string error;
    };

    struct ClearResult {
        std::int64_t erased = 0;
        std::string error;
    };

    // Opens or creates the database and its table and indexes. On failure returns null and
    // sets `error`. `busy_timeout` bounds how long a statement waits for another process's
    // lock before failing with "database is locked".
    static std::unique_ptr<DmHistory> open(
        const std::string& path, std::string& error,
        std::chrono::milliseconds busy_timeout = std::chrono::seconds(5));

    // "@<a>:@<b>" with the two names in ascending byte order.
    static std::string channel_id(std::string_view a, std::string_view b);

    DmHistory(const DmHistory&) = delete;
    DmHistory& operator=(const DmHistory&) = delete;
    // Writes everything still queued, then stops the writer thread and closes the file.
    ~DmHistory();

    // Queues a DM; returns at once. A failed insert (duplicate id, full disk...) is logged and
    // the message dropped, as the original does.
    void insert(std::int64_t id, std::string from, std::string to, std::string html,
                std::int64_t unix_seconds);

    // Blocks until every insert queued before the call has been written (or has failed).
    void flush();

    // The calls below block until done. They run after every insert queued before them, so
    // call them from a worker, never from the chat thread.

    // Deletes rows older than `retention_days` days before `now_unix` (none if days <= 0).
    // Returns the error text, empty on success.
    std::string prune_older_than(std::int64_t retention_days, std::int64_t now_unix);

    // The largest stored id, 0 when empty or on error (logged): new ids must grow past it.
    std::int64_t max_message_id();

    // Take-back: an operator may delete any row, a user only one they sent. True only if a
    // row was deleted.
    bool delete_message(std::int64_t id, std::string_view requester, bool is_operator);

    // The thread between `me` and `partner`; `before_id` 0 means the latest page, otherwise
    // only ids strictly below it.
    Page history(std::string_view me, std::string_view partner, std::int64_t before_id);

    // Partners of `me` (api.md §13). `sort`: "a-z", "z-a", "oldest", anything else newest.
    // `page` is 1-based; values below 1 act as 1.
    UsernamesPage usernames(std::string_view me, std::string_view sort, std::int64_t page);

    // Deletes every row of every thread involving `username` and every row they sent;
    // `erased` is the number of rows deleted. Names match exactly (no wildcards).
    ClearResult clear(std::string_view username);

  private:
    struct Statements;
    struct Job {
        // An insert is kept as data so consecutive inserts can share one transaction; any
        // other work is a task.
        bool is_insert = false;
        std::int64_t id = 0;
        std::string channel, username, message;
        std::int64_t timestamp = 0;
        std::function<void()> task;
    };

    DmHistory(sqlite3* db, std::unique_ptr<Statements> statements);

    void enqueue(Job job);
    // Runs `fn` on the writer thread and waits for its result.
    template <typename Result, typename Fn>
    Result call(Fn fn);
    void writer_loop();
    void write_inserts(std::vector<Job>& batch);

    sqlite3* db_;
    std::unique_ptr<Statements> st_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace barertc::store
