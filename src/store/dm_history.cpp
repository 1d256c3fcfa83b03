#include "store/dm_history.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <future>
#include <limits>
#include <utility>

namespace barertc::store {

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

// Same byte-order rule as DmHistory::channel_id, kept here so the SQL function below can use
// it without a DmHistory.
std::string make_channel(std::string_view a, std::string_view b) {
    if (b < a) std::swap(a, b);
    std::string out;
    out.reserve(a.size() + b.size() + 3);
    out.append("@").append(a).append(":@").append(b);
    return out;
}

// True if a row of `channel` sent by `sender` belongs to a conversation of `name` (possibly
// with itself). Done in C++ rather than with LIKE so that '%' and '_' in a name are plain
// characters. A name containing ":@" makes some channel ids splittable in two ways; the
// sender, always one of the two parties, tells which split is the real one.
bool row_involves(std::string_view channel, std::string_view sender, std::string_view name) {
    const auto is_thread_with = [&](std::string_view partner) {
        return (sender == name || sender == partner) && make_channel(name, partner) == channel;
    };
    const std::string head = "@" + std::string(name) + ":@";
    if (channel.starts_with(head) && is_thread_with(channel.substr(head.size()))) return true;
    const std::string tail = ":@" + std::string(name);
    if (channel.size() > tail.size() && channel.front() == '@' && channel.ends_with(tail)) {
        if (is_thread_with(channel.substr(1, channel.size() - tail.size() - 1))) return true;
    }
    return false;
}

std::string_view column_text(sqlite3_stmt* s, int col) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    if (text == nullptr) return {};
    return {text, static_cast<std::size_t>(sqlite3_column_bytes(s, col))};
}

std::string_view value_text(sqlite3_value* v) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(v));
    if (text == nullptr) return {};
    return {text, static_cast<std::size_t>(sqlite3_value_bytes(v))};
}

// SQL function dm_involves(channel_id, username, name), registered on our connection only.
void sql_involves(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    for (int i = 0; i < argc; ++i) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
            sqlite3_result_int(ctx, 0);
            return;
        }
    }
    if (argc != 3) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    const auto channel = value_text(argv[0]);
    const auto sender = value_text(argv[1]);
    const auto name = value_text(argv[2]);
    sqlite3_result_int(ctx, row_involves(channel, sender, name) ? 1 : 0);
}

// A prepared statement owned for the life of the connection.
class Stmt {
  public:
    Stmt() = default;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt() { sqlite3_finalize(stmt_); }

    bool prepare(sqlite3* db, const char* sql, std::string& error) {
        const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
        if (rc != SQLITE_OK) {
            error = sqlite3_errmsg(db);
            return false;
        }
        return true;
    }
    sqlite3_stmt* get() const { return stmt_; }

  private:
    sqlite3_stmt* stmt_ = nullptr;
};

// Binds parameters to a statement and resets it when the scope ends, so the statement can be
// reused and does not keep a read transaction open.
class Use {
  public:
    explicit Use(const Stmt& s) : s_(s.get()) {}
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    ~Use() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }

    Use& bind(int i, std::int64_t v) {
        if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(s_, i, v);
        return *this;
    }
    Use& bind(int i, std::string_view v) {
        // A null pointer would bind SQL NULL instead of the empty string.
        const char* data = v.data() != nullptr ? v.data() : "";
        if (rc_ == SQLITE_OK)
            rc_ = sqlite3_bind_text64(s_, i, data, v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        return *this;
    }
    // SQLITE_ROW, SQLITE_DONE, or an error code (also a failed bind).
    int step() { return rc_ == SQLITE_OK ? sqlite3_step(s_) : rc_; }
    sqlite3_stmt* get() const { return s_; }

  private:
    sqlite3_stmt* s_;
    int rc_ = SQLITE_OK;
};

// Runs one statement without results (schema, pragmas); returns the error text or "".
std::string exec(sqlite3* db, const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK) return {};
    std::string error = msg != nullptr ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    return error;
}

}  // namespace

struct DmHistory::Statements {
    Stmt begin, commit, rollback;
    Stmt insert;
    Stmt delete_any, delete_own;
    Stmt page, older_count;
    Stmt thread_count;
    Stmt partners_az, partners_za, partners_oldest, partners_newest;
    Stmt clear;
    Stmt prune;
    Stmt max_id;

    bool prepare(sqlite3* db, std::string& error) {
        // The partner queries differ only in ORDER BY, which cannot be a bound parameter.
        const auto partners = [](const char* order) {
            return std::string(
                       "SELECT username FROM direct_messages"
                       " WHERE dm_involves(channel_id, username, ?1) AND username <> ?1"
                       " GROUP BY username ORDER BY ") +
                   order + " LIMIT ?2 OFFSET ?3";
        };
        return begin.prepare(db, "BEGIN IMMEDIATE", error) && commit.prepare(db, "COMMIT", error) &&
               rollback.prepare(db, "ROLLBACK", error) &&
               insert.prepare(db,
                              "INSERT INTO direct_messages"
                              " (message_id, channel_id, username, message, timestamp)"
                              " VALUES (?1, ?2, ?3, ?4, ?5)",
                              error) &&
               delete_any.prepare(db, "DELETE FROM direct_messages WHERE message_id = ?1", error) &&
               delete_own.prepare(db,
                                  "DELETE FROM direct_messages"
                                  " WHERE message_id = ?1 AND username = ?2",
                                  error) &&
               page.prepare(db,
                            "SELECT message_id, username, message, timestamp"
                            " FROM direct_messages WHERE channel_id = ?1 AND message_id < ?2"
                            " ORDER BY message_id DESC LIMIT ?3",
                            error) &&
               older_count.prepare(db,
                                   "SELECT COUNT(*) FROM direct_messages"
                                   " WHERE channel_id = ?1 AND message_id < ?2",
                                   error) &&
               thread_count.prepare(db,
                                    "SELECT COUNT(DISTINCT channel_id) FROM direct_messages"
                                    " WHERE dm_involves(channel_id, username, ?1)",
                                    error) &&
               partners_az.prepare(db, partners("username ASC").c_str(), error) &&
               partners_za.prepare(db, partners("username DESC").c_str(), error) &&
               partners_oldest.prepare(db, partners("MIN(timestamp) ASC, username ASC").c_str(),
                                       error) &&
               partners_newest.prepare(db, partners("MAX(timestamp) DESC, username ASC").c_str(),
                                       error) &&
               clear.prepare(db,
                             "DELETE FROM direct_messages"
                             " WHERE dm_involves(channel_id, username, ?1) OR username = ?1",
                             error) &&
               prune.prepare(db, "DELETE FROM direct_messages WHERE timestamp < ?1", error) &&
               max_id.prepare(db, "SELECT COALESCE(MAX(message_id), 0) FROM direct_messages",
                              error);
    }
};

std::string DmHistory::channel_id(std::string_view a, std::string_view b) {
    return make_channel(a, b);
}

std::unique_ptr<DmHistory> DmHistory::open(const std::string& path, std::string& error,
                                           std::chrono::milliseconds busy_timeout) {
    sqlite3* db = nullptr;
    // NOMUTEX: after open() the connection is only ever used by the writer thread.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    const auto fail = [&](std::string what) -> std::unique_ptr<DmHistory> {
        error = std::move(what);
        spdlog::error("dm history: cannot use database {}: {}", path, error);
        sqlite3_close(db);
        return nullptr;
    };
    if (rc != SQLITE_OK) {
        return fail(db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    }

    const auto timeout_ms = std::clamp<std::chrono::milliseconds::rep>(
        busy_timeout.count(), 0, std::numeric_limits<int>::max());
    sqlite3_busy_timeout(db, static_cast<int>(timeout_ms));

    // The first statement that reads the file is where a non-database file is noticed.
    {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s, nullptr) != SQLITE_OK) {
            return fail(sqlite3_errmsg(db));
        }
        const int step = sqlite3_step(s);
        std::string mode = step == SQLITE_ROW ? std::string(column_text(s, 0)) : std::string();
        sqlite3_finalize(s);
        if (step != SQLITE_ROW) return fail(sqlite3_errmsg(db));
        if (mode != "wal") {
            // Still usable (e.g. a file system without shared memory), only slower for readers.
            spdlog::warn("dm history: {} stays in journal mode '{}', not WAL", path, mode);
        }
    }

    for (const char* sql : {
             "CREATE TABLE IF NOT EXISTS direct_messages ("
             " message_id INTEGER PRIMARY KEY,"
             " channel_id TEXT,"
             " username TEXT,"
             " message TEXT,"
             " timestamp INTEGER)",
             "CREATE INDEX IF NOT EXISTS idx_direct_messages_channel_id"
             " ON direct_messages(channel_id)",
             "CREATE INDEX IF NOT EXISTS idx_direct_messages_username"
             " ON direct_messages(username)",
             "CREATE INDEX IF NOT EXISTS idx_direct_messages_timestamp"
             " ON direct_messages(timestamp)",
         }) {
        if (auto e = exec(db, sql); !e.empty()) return fail(std::move(e));
    }

    if (sqlite3_create_function_v2(db, "dm_involves", 3,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
                                   sql_involves, nullptr, nullptr, nullptr) != SQLITE_OK) {
        return fail(sqlite3_errmsg(db));
    }

    auto statements = std::make_unique<Statements>();
    if (std::string e; !statements->prepare(db, e)) {
        statements.reset();  // statements must be finalized before the connection closes
        return fail(std::move(e));
    }
    error.clear();
    return std::unique_ptr<DmHistory>(new DmHistory(db, std::move(statements)));
}

DmHistory::DmHistory(sqlite3* db, std::unique_ptr<Statements> statements)
    : db_(db), st_(std::move(statements)) {
    writer_ = std::thread([this] { writer_loop(); });
}

DmHistory::~DmHistory() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();  // the loop drains the queue before it returns
    st_.reset();
    if (sqlite3_close(db_) != SQLITE_OK) {
        spdlog::error("dm history: closing the database failed: {}", sqlite3_errmsg(db_));
    }
}

void DmHistory::enqueue(Job job) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void DmHistory::insert(std::int64_t id, std::string from, std::string to, std::string html,
                       std::int64_t unix_seconds) {
    Job job;
    job.is_insert = true;
    job.id = id;
    job.channel = make_channel(from, to);
    job.username = std::move(from);
    job.message = std::move(html);
    job.timestamp = unix_seconds;
    enqueue(std::move(job));
}

template <typename Result, typename Fn>
Result DmHistory::call(Fn fn) {
    // std::function needs a copyable target, hence the shared promise.
    auto promise = std::make_shared<std::promise<Result>>();
    auto future = promise->get_future();
    Job job;
    job.task = [promise, fn = std::move(fn)]() mutable {
        try {
            promise->set_value(fn());
        } catch (...) {
            promise->set_exception(std::current_exception());
        }
    };
    enqueue(std::move(job));
    return future.get();
}

void DmHistory::flush() {
    call<bool>([] { return true; });
}

void DmHistory::writer_loop() {
    for (;;) {
        std::deque<Job> jobs;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything is written
            jobs.swap(queue_);
        }
        // Keep the queue's order: inserts queued before a read are written before it runs.
        std::vector<Job> inserts;
        for (auto& job : jobs) {
            if (job.is_insert) {
                inserts.push_back(std::move(job));
                continue;
            }
            write_inserts(inserts);
            job.task();
        }
        write_inserts(inserts);
    }
}

void DmHistory::write_inserts(std::vector<Job>& batch) {
    if (batch.empty()) return;
    // One transaction per batch: a busy chat queues many DMs while the previous commit syncs
    // to disk, and they then share the next sync instead of paying one each.
    bool in_transaction = false;
    if (batch.size() > 1) {
        Use begin(st_->begin);
        in_transaction = begin.step() == SQLITE_DONE;
        if (!in_transaction) {
            spdlog::warn("dm history: cannot begin a transaction ({}), inserting one by one",
                         sqlite3_errmsg(db_));
        }
    }
    std::size_t written = 0;
    for (const auto& job : batch) {
        Use insert(st_->insert);
        insert.bind(1, job.id)
            .bind(2, std::string_view(job.channel))
            .bind(3, std::string_view(job.username))
            .bind(4, std::string_view(job.message))
            .bind(5, job.timestamp);
        if (insert.step() == SQLITE_DONE) {
            ++written;
        } else {
            spdlog::error("dm history: storing message {} from {} failed: {}", job.id, job.username,
                          sqlite3_errmsg(db_));
        }
    }
    // Some errors (a full disk, I/O) roll the transaction back by themselves.
    if (in_transaction && !sqlite3_get_autocommit(db_)) {
        Use commit(st_->commit);
        if (commit.step() != SQLITE_DONE) {
            spdlog::error("dm history: committing {} messages failed, they are lost: {}", written,
                          sqlite3_errmsg(db_));
            Use rollback(st_->rollback);
            rollback.step();
        }
    } else if (in_transaction && written > 0) {
        spdlog::error("dm history: the transaction was rolled back, {} messages are lost", written);
    }
    batch.clear();
}

std::string DmHistory::prune_older_than(std::int64_t retention_days, std::int64_t now_unix) {
    if (retention_days <= 0) return {};
    // A huge retention must not overflow into a cutoff in the future.
    std::int64_t span = 0;
    std::int64_t cutoff = 0;
    if (__builtin_mul_overflow(retention_days, kSecondsPerDay, &span) ||
        __builtin_sub_overflow(now_unix, span, &cutoff)) {
        cutoff = std::numeric_limits<std::int64_t>::min();
    }
    return call<std::string>([this, cutoff, retention_days] {
        Use prune(st_->prune);
        prune.bind(1, cutoff);
        if (prune.step() != SQLITE_DONE) {
            std::string error = sqlite3_errmsg(db_);
            spdlog::error("dm history: pruning failed: {}", error);
            return error;
        }
        const auto deleted = sqlite3_changes64(db_);
        if (deleted > 0) {
            spdlog::info("dm history: deleted {} messages older than {} days", deleted,
                         retention_days);
        }
        return std::string();
    });
}

std::int64_t DmHistory::max_message_id() {
    return call<std::int64_t>([this]() -> std::int64_t {
        Use max(st_->max_id);
        if (max.step() != SQLITE_ROW) {
            spdlog::error("dm history: reading the largest message id failed: {}",
                          sqlite3_errmsg(db_));
            return 0;
        }
        return sqlite3_column_int64(max.get(), 0);
    });
}

bool DmHistory::delete_message(std::int64_t id, std::string_view requester, bool is_operator) {
    return call<bool>([this, id, requester = std::string(requester), is_operator] {
        Use del(is_operator ? st_->delete_any : st_->delete_own);
        del.bind(1, id);
        if (!is_operator) del.bind(2, std::string_view(requester));
        if (del.step() != SQLITE_DONE) {
            spdlog::error("dm history: deleting message {} for {} failed: {}", id, requester,
                          sqlite3_errmsg(db_));
            return false;
        }
        return sqlite3_changes64(db_) > 0;
    });
}

DmHistory::Page DmHistory::history(std::string_view me, std::string_view partner,
                                   std::int64_t before_id) {
    const auto channel = make_channel(me, partner);
    const std::int64_t below =
        before_id == 0 ? std::numeric_limits<std::int64_t>::max() : before_id;
    return call<Page>([this, channel, below] {
        Page out;
        const auto failed = [&](const char* what) {
            out = Page{};
            out.error = sqlite3_errmsg(db_);
            spdlog::error("dm history: {} of {} failed: {}", what, channel, out.error);
            return out;
        };
        {
            Use page(st_->page);
            page.bind(1, std::string_view(channel)).bind(2, below).bind(3, kHistoryPageSize);
            int rc;
            while ((rc = page.step()) == SQLITE_ROW) {
                Row row;
                row.id = sqlite3_column_int64(page.get(), 0);
                row.username = column_text(page.get(), 1);
                row.message = column_text(page.get(), 2);
                row.timestamp = sqlite3_column_int64(page.get(), 3);
                out.messages.push_back(std::move(row));
            }
            if (rc != SQLITE_DONE) return failed("reading the history");
        }
        if (out.messages.empty()) return out;
        Use older(st_->older_count);
        older.bind(1, std::string_view(channel)).bind(2, out.messages.back().id);
        if (older.step() != SQLITE_ROW) return failed("counting the older messages");
        out.remaining = sqlite3_column_int64(older.get(), 0);
        return out;
    });
}

DmHistory::UsernamesPage DmHistory::usernames(std::string_view me, std::string_view sort,
                                              std::int64_t page) {
    const Stmt* query = &st_->partners_newest;
    if (sort == "a-z") {
        query = &st_->partners_az;
    } else if (sort == "z-a") {
        query = &st_->partners_za;
    } else if (sort == "oldest") {
        query = &st_->partners_oldest;
    }
    // Clamp so that the offset cannot overflow.
    const std::int64_t max_page = std::numeric_limits<std::int64_t>::max() / kUsernamesPageSize;
    const std::int64_t offset =
        (std::clamp<std::int64_t>(page, 1, max_page) - 1) * kUsernamesPageSize;
    return call<UsernamesPage>([this, me = std::string(me), query, offset] {
        UsernamesPage out;
        const auto failed = [&](const char* what) {
            out = UsernamesPage{};
            out.error = sqlite3_errmsg(db_);
            spdlog::error("dm history: {} for {} failed: {}", what, me, out.error);
            return out;
        };
        {
            Use count(st_->thread_count);
            count.bind(1, std::string_view(me));
            if (count.step() != SQLITE_ROW) return failed("counting the threads");
            out.count = sqlite3_column_int64(count.get(), 0);
        }
        if (out.count == 0) {
            out.error = "you have no direct messages stored on this chat server";
            return out;
        }
        out.pages =
            std::max<std::int64_t>(1, (out.count + kUsernamesPageSize - 1) / kUsernamesPageSize);
        Use list(*query);
        list.bind(1, std::string_view(me)).bind(2, kUsernamesPageSize).bind(3, offset);
        int rc;
        while ((rc = list.step()) == SQLITE_ROW) {
            out.usernames.emplace_back(column_text(list.get(), 0));
        }
        if (rc != SQLITE_DONE) return failed("listing the partners");
        return out;
    });
}

DmHistory::ClearResult DmHistory::clear(std::string_view username) {
    return call<ClearResult>([this, username = std::string(username)] {
        ClearResult out;
        Use clear(st_->clear);
        clear.bind(1, std::string_view(username));
        if (clear.step() != SQLITE_DONE) {
            out.error = sqlite3_errmsg(db_);
            spdlog::error("dm history: clearing the messages of {} failed: {}", username,
                          out.error);
            return out;
        }
        // The rows this one statement deleted: the count and the deletion cannot disagree.
        out.erased = sqlite3_changes64(db_);
        return out;
    });
}

}  // namespace barertc::store
