// End-to-end tests of DM history (features.md §6, api.md §12–§14, decisions.md §1–§3), the
// webhooks (features.md §8, api.md §11, protocol.md §5.14, commands.md /nsfw, decisions.md
// §10), take-backs of stored DMs (protocol.md §12), graceful shutdown (decisions.md §4) and
// the admin endpoints (api.md §6, §7, §9, §10, §15).
//
// Webhooks go to a real HTTP receiver (WebhookReceiver) inside the test process; DM history
// lives in the SQLite file the server creates in its working folder.

#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <signal.h>
#include <stdlib.h>

#include <ctime>
#include <regex>
#include <stdexcept>

namespace e2e {
namespace {

using boost::beast::http::verb;

constexpr std::string_view kRestartNotice =
    "The chat server is restarting, you will be reconnected shortly.";
constexpr std::string_view kRebootNotice = "The chat server is going down for a reboot NOW!";
constexpr std::string_view kNotInRoom = "You are not logged into the chat room.";
constexpr std::string_view kJwtNotAvailable = "JWT authentication is not available.";
constexpr std::string_view kNoDatabase = "database is not initialized";
constexpr std::string_view kReportDelivered = "Your report has been delivered successfully.";
constexpr std::string_view kNotYourMessage = "That is not your message to take back.";

// ------------------------------------------------------------------------------------------
// Go-style JSON: what Go's json.MarshalIndent(v, "", "  ") plus a newline writes (api.md §2).

std::string go_string(std::string_view s) {
    const std::string plain = bj::serialize(bj::value(bj::string_view(s.data(), s.size())));
    std::string out;
    for (char c : plain) {
        if (c == '<')
            out += "\\u003c";
        else if (c == '>')
            out += "\\u003e";
        else if (c == '&')
            out += "\\u0026";
        else
            out.push_back(c);
    }
    return out;
}

std::string go_json(const bj::value& v, std::size_t depth = 0) {
    const std::string pad(2 * (depth + 1), ' ');
    const std::string close_pad(2 * depth, ' ');
    if (v.is_object()) {
        const auto& o = v.get_object();
        if (o.empty()) return "{}";
        std::string out = "{\n";
        bool first = true;
        for (const auto& kv : o) {
            if (!first) out += ",\n";
            first = false;
            out += pad + go_string(kv.key()) + ": " + go_json(kv.value(), depth + 1);
        }
        return out + "\n" + close_pad + "}";
    }
    if (v.is_array()) {
        const auto& a = v.get_array();
        if (a.empty()) return "[]";
        std::string out = "[\n";
        bool first = true;
        for (const auto& x : a) {
            if (!first) out += ",\n";
            first = false;
            out += pad + go_json(x, depth + 1);
        }
        return out + "\n" + close_pad + "]";
    }
    if (v.is_string()) return go_string(v.get_string());
    return bj::serialize(v);
}

std::string go_body(const bj::object& o) {
    return go_json(o) + "\n";
}

// {"OK": false, "Error": error, <extra keys in order>}
std::string error_body(std::string_view error, const bj::object& extra = {}) {
    bj::object o{{"OK", false}, {"Error", error}};
    for (const auto& kv : extra) o[kv.key()] = kv.value();
    return go_body(o);
}

const bj::object kHistoryErrorExtra{{"Messages", nullptr}, {"Remaining", 0}};
const bj::object kUsernamesErrorExtra{{"Usernames", nullptr}, {"Count", 0}, {"Pages", 0}};
const bj::object kClearErrorExtra{{"MessagesErased", 0}};

// ------------------------------------------------------------------------------------------
// HTTP helpers

HttpResponse post(std::uint16_t port, std::string_view path, const bj::object& body) {
    return post_json(port, path, bj::serialize(body));
}

bj::object body_object(const HttpResponse& res) {
    return parse_object(res.body);
}

// A token for `claims`, signed by the server itself through /api/authenticate (api.md §5).
std::string sign(std::uint16_t port, const bj::object& claims) {
    const auto res = post(port, "/api/authenticate", {{"APIKey", kApiKey}, {"Claims", claims}});
    if (res.status != 200) throw std::runtime_error("authenticate failed: " + res.body);
    return str(body_object(res), "JWT");
}

HttpResponse history(std::uint16_t port, std::string_view token, std::string_view partner,
                     std::int64_t before_id = 0) {
    return post(port, "/api/message/history",
                {{"JWTToken", token}, {"Username", partner}, {"BeforeID", before_id}});
}

HttpResponse usernames(std::uint16_t port, std::string_view token) {
    return post(port, "/api/message/usernames",
                {{"JWTToken", token}, {"Sort", "newest"}, {"Page", 1}});
}

// Unix seconds of an RFC 3339 date-time with seconds precision, or nullopt if malformed.
std::optional<std::int64_t> parse_rfc3339(const std::string& text) {
    static const std::regex re(
        R"(^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(Z|([+-])(\d\d):(\d\d))$)");
    std::smatch m;
    if (!std::regex_match(text, m, re)) return std::nullopt;
    std::tm tm{};
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    tm.tm_hour = std::stoi(m[4]);
    tm.tm_min = std::stoi(m[5]);
    tm.tm_sec = std::stoi(m[6]);
    std::int64_t t = timegm(&tm);
    if (m[7] != "Z") {
        const std::int64_t offset = std::stoi(m[9]) * 3600 + std::stoi(m[10]) * 60;
        t -= m[8] == "+" ? offset : -offset;
    }
    return t;
}

// ------------------------------------------------------------------------------------------
// Direct messages

struct Dm {
    std::int64_t id = 0;
    std::string from;
    std::string html;  // as delivered to the recipient
};

bool is_dm(const bj::object& m, std::string_view channel) {
    return is_action(m, "message") && str(m, "channel") == channel;
}

// `from` sends `text` to `to`; waits for the sender's echo only.
Dm send_dm_echoed(WsClient& from, std::string_view to, std::string_view text) {
    from.send({{"action", "message"}, {"channel", "@" + std::string(to)}, {"message", text}});
    const std::string channel = "@" + std::string(to);
    auto echo = from.recv_until([&](const bj::object& m) { return is_dm(m, channel); });
    if (!echo) throw std::runtime_error("no echo of the DM " + std::string(text));
    EXPECT_EQ(str(*echo, "username"), from.username());
    EXPECT_GT(num(*echo, "msgID"), 0);
    return {num(*echo, "msgID"), from.username(), str(*echo, "message")};
}

// `from` sends `text` to `to`; waits for the echo and the delivery, which must agree.
Dm send_dm(WsClient& from, WsClient& to, std::string_view text) {
    Dm dm = send_dm_echoed(from, to.username(), text);
    const std::string channel = "@" + from.username();
    auto got = to.recv_until([&](const bj::object& m) { return is_dm(m, channel); });
    if (!got) throw std::runtime_error("DM not delivered: " + std::string(text));
    const bj::object expected{{"action", "message"},
                              {"channel", channel},
                              {"username", from.username()},
                              {"message", dm.html},
                              {"msgID", dm.id}};
    EXPECT_EQ(*got, expected);
    return dm;
}

// Checks a /api/message/history answer: exactly `page` (newest first) and `remaining`, every
// timestamp RFC 3339 within [t_min, t_max], and the exact Go-style body.
void expect_history(const HttpResponse& res, const std::vector<Dm>& page, std::int64_t remaining,
                    std::int64_t t_min, std::int64_t t_max) {
    ASSERT_EQ(res.status, 200u) << res.body;
    EXPECT_EQ(res.header("Content-Type").value_or(""), "application/json");
    const auto got = body_object(res);
    const auto* messages = got.if_contains("Messages");
    ASSERT_TRUE(messages && messages->is_array()) << res.body;
    ASSERT_EQ(messages->get_array().size(), page.size()) << res.body;
    bj::array expected_messages;
    for (std::size_t i = 0; i < page.size(); ++i) {
        const auto& row = messages->get_array()[i];
        std::string timestamp = row.is_object() ? str(row.get_object(), "timestamp") : "";
        const auto t = parse_rfc3339(timestamp);
        EXPECT_TRUE(t) << "timestamp of row " << i << ": " << timestamp;
        if (t) {
            EXPECT_GE(*t, t_min - 1) << timestamp;
            EXPECT_LE(*t, t_max + 1) << timestamp;
        }
        expected_messages.emplace_back(bj::object{{"username", page[i].from},
                                                  {"message", page[i].html},
                                                  {"msgID", page[i].id},
                                                  {"timestamp", timestamp}});
    }
    const bj::object expected{
        {"OK", true}, {"Messages", std::move(expected_messages)}, {"Remaining", remaining}};
    EXPECT_EQ(res.body, go_body(expected));
}

// The newest-first slice [from_newest, from_newest + count) of `oldest_first`.
std::vector<Dm> newest_first(const std::vector<Dm>& oldest_first, std::size_t skip_newest,
                             std::size_t count) {
    std::vector<Dm> out;
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(oldest_first[oldest_first.size() - 1 - skip_newest - i]);
    }
    return out;
}

// A folder shared by several Server processes, removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string templ =
            (std::filesystem::temp_directory_path() / "barertc-e2e-hist-XXXXXX").string();
        if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
        path = templ;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

ServerConfig history_config() {
    ServerConfig c;
    c.jwt_enabled = true;
    c.jwt_strict = true;
    c.dm_history = true;
    return c;
}

// Reads until the given ChatServer notice; fails the test if it never comes.
void expect_notice(WsClient& ws, std::string_view text, std::chrono::milliseconds timeout = 5s) {
    std::vector<bj::object> skipped;
    const auto want = chat_server(text);
    auto got = ws.recv_until([&](const bj::object& m) { return m == want; }, timeout, &skipped);
    EXPECT_TRUE(got) << "no notice \"" << text << "\" for " << ws.username() << "; got "
                     << dump(skipped) << " / " << ws.end_reason();
}

// ------------------------------------------------------------------------------------------
// 1. DM history end to end, across a graceful restart

TEST(HistoryE2E, StoredPagedListedAndDurableAcrossGracefulRestart) {
    TempDir work;
    ServerConfig config = history_config();
    config.work_dir = work.path;

    std::vector<Dm> sent;  // oldest first
    std::string alice_token, bob_token;
    std::int64_t first_start = 0;
    {
        Server server(config);
        first_start = server.started_unix_min();
        alice_token = sign(server.port(), {{"sub", "alice"}});
        bob_token = sign(server.port(), {{"sub", "bob"}});
        WsClient alice(server.port());
        WsClient bob(server.port());
        alice.login("alice", alice_token);
        bob.login("bob", bob_token);
        ASSERT_EQ(alice.username(), "alice");
        ASSERT_EQ(bob.username(), "bob");

        for (int i = 0; i < 25; ++i) {
            const std::string text = "message number " + std::to_string(i) + " *hi*";
            sent.push_back(i % 3 == 2 ? send_dm(bob, alice, text) : send_dm(alice, bob, text));
        }
        for (std::size_t i = 1; i < sent.size(); ++i) EXPECT_GT(sent[i].id, sent[i - 1].id);
        const auto now = unix_now();

        // Newest first, 20 per page, Remaining = older rows; the same thread from both sides.
        expect_history(history(server.port(), alice_token, "bob"), newest_first(sent, 0, 20), 5,
                       first_start, now);
        expect_history(history(server.port(), bob_token, "alice"), newest_first(sent, 0, 20), 5,
                       first_start, now);
        // Second page: strictly below the oldest id of the first page.
        expect_history(history(server.port(), alice_token, "bob", sent[5].id),
                       newest_first(sent, 20, 5), 0, first_start, now);
        // A cursor in the middle, and one below everything.
        expect_history(history(server.port(), bob_token, "alice", sent[12].id),
                       newest_first(sent, 13, 12), 0, first_start, now);
        expect_history(history(server.port(), alice_token, "bob", sent[0].id), {}, 0, first_start,
                       now);
        // Another partner: empty list, not null (decisions.md §3).
        expect_history(history(server.port(), alice_token, "carol"), {}, 0, first_start, now);

        // The partners list (api.md §13).
        auto res = usernames(server.port(), alice_token);
        EXPECT_EQ(res.status, 200u);
        EXPECT_EQ(res.body,
                  "{\n  \"OK\": true,\n  \"Usernames\": [\n    \"bob\"\n  ],\n"
                  "  \"Count\": 1,\n  \"Pages\": 1\n}\n");
        res = usernames(server.port(), bob_token);
        EXPECT_EQ(res.status, 200u);
        EXPECT_EQ(res.body,
                  "{\n  \"OK\": true,\n  \"Usernames\": [\n    \"alice\"\n  ],\n"
                  "  \"Count\": 1,\n  \"Pages\": 1\n}\n");

        // One more DM, acknowledged by its echo only, then SIGTERM at once: it must survive
        // (decisions.md §2).
        sent.push_back(send_dm_echoed(alice, "bob", "last words before the restart"));
        server.send_signal(SIGTERM);
        for (WsClient* ws : {&alice, &bob}) {
            expect_notice(*ws, kRestartNotice);
            EXPECT_EQ(ws->wait_closed(5s), std::optional<unsigned>(1001u)) << ws->end_reason();
        }
        EXPECT_EQ(server.wait_exit(10s), std::optional<int>(0)) << "graceful exit status";
    }
    ASSERT_FALSE(::testing::Test::HasFailure());
    ASSERT_TRUE(std::filesystem::exists(work.path / "database.sqlite"));

    // A new process on the same folder reads the same database.
    Server server(config);
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice", alice_token);
    bob.login("bob", bob_token);
    ASSERT_EQ(alice.username(), "alice");
    const auto now = unix_now();
    expect_history(history(server.port(), alice_token, "bob"), newest_first(sent, 0, 20), 6,
                   first_start, now);
    expect_history(history(server.port(), bob_token, "alice", sent[6].id),
                   newest_first(sent, 20, 6), 0, first_start, now);

    // New ids continue above the stored ones, so new DMs are stored too (decisions.md §1).
    const Dm fresh = send_dm(alice, bob, "hello again after the restart");
    EXPECT_GT(fresh.id, sent.back().id);
    EXPECT_LT(fresh.id, std::int64_t{1} << 53);
    sent.push_back(fresh);
    expect_history(history(server.port(), bob_token, "alice"), newest_first(sent, 0, 20), 7,
                   first_start, unix_now());
}

// ------------------------------------------------------------------------------------------
// 2. History errors

TEST(HistoryE2E, ErrorsWhenJwtIsDisabled) {
    ServerConfig config;
    config.dm_history = true;  // the JWT check comes first anyway
    Server server(config);
    const std::string token = user_jwt("alice");

    auto res = history(server.port(), token, "bob");
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kJwtNotAvailable, kHistoryErrorExtra));
    res = usernames(server.port(), token);
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kJwtNotAvailable, kUsernamesErrorExtra));
    res = post(server.port(), "/api/message/clear", {{"JWTToken", token}});
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kJwtNotAvailable, kClearErrorExtra));
    res = post(server.port(), "/api/profile", {{"JWTToken", token}, {"Username", "bob"}});
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kJwtNotAvailable));
}

TEST(HistoryE2E, ErrorsForTokensCallersAndEmptyHistory) {
    Server server(history_config());
    const std::uint16_t port = server.port();

    // No token at all.
    auto res = history(port, "", "bob");
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kJwtNotAvailable, kHistoryErrorExtra));

    // Tokens that do not validate: 400 with the JWT library's text (wording not fixed).
    const auto now = unix_now();
    for (const std::string& bad :
         {std::string("not-a-token"), user_jwt("alice", "some other secret"),
          make_jwt(
              {{"sub", "alice"}, {"iat", now - 900}, {"nbf", now - 900}, {"exp", now - 600}})}) {
        SCOPED_TRACE(bad);
        res = history(port, bad, "bob");
        EXPECT_EQ(res.status, 400u);
        const auto o = body_object(res);
        EXPECT_EQ(o.at("OK"), false);
        EXPECT_FALSE(str(o, "Error").empty()) << res.body;
        EXPECT_EQ(res.body, error_body(str(o, "Error"), kHistoryErrorExtra));
        res = usernames(port, bad);
        EXPECT_EQ(res.status, 400u);
        EXPECT_EQ(res.body, error_body(str(body_object(res), "Error"), kUsernamesErrorExtra));
    }

    // A valid token, but its user is not in the room.
    const std::string alice_token = sign(port, {{"sub", "alice"}});
    res = history(port, alice_token, "bob");
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kNotInRoom, kHistoryErrorExtra));
    res = usernames(port, alice_token);
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kNotInRoom, kUsernamesErrorExtra));

    // In the room, nothing stored: an empty list, never null (decisions.md §3).
    WsClient alice(port);
    alice.login("alice", alice_token);
    ASSERT_EQ(alice.username(), "alice");
    res = history(port, alice_token, "bob");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"Messages\": [],\n  \"Remaining\": 0\n}\n");
    res = history(port, alice_token, "bob", 12345);
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"Messages\": [],\n  \"Remaining\": 0\n}\n");
    res = usernames(port, alice_token);
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, error_body("you have no direct messages stored on this chat server",
                                   kUsernamesErrorExtra));
    // Clearing nothing is fine.
    res = post(port, "/api/message/clear", {{"JWTToken", alice_token}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"MessagesErased\": 0\n}\n");

    // A token for someone else who is offline still fails, although alice is online.
    res = history(port, sign(port, {{"sub", "bob"}}), "alice");
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kNotInRoom, kHistoryErrorExtra));
}

TEST(HistoryE2E, ErrorsWhenDmHistoryIsDisabled) {
    ServerConfig config = history_config();
    config.dm_history = false;
    Server server(config);
    const std::uint16_t port = server.port();
    const std::string alice_token = sign(port, {{"sub", "alice"}});

    // Not in the room is checked before the database.
    auto res = history(port, alice_token, "bob");
    EXPECT_EQ(res.status, 400u);
    EXPECT_EQ(res.body, error_body(kNotInRoom, kHistoryErrorExtra));

    WsClient alice(port);
    alice.login("alice", alice_token);
    ASSERT_EQ(alice.username(), "alice");
    res = history(port, alice_token, "bob");
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, error_body(kNoDatabase, kHistoryErrorExtra));
    res = usernames(port, alice_token);
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, error_body(kNoDatabase, kUsernamesErrorExtra));
    res = post(port, "/api/message/clear", {{"JWTToken", alice_token}});
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, error_body(kNoDatabase, kClearErrorExtra));
    res = post(port, "/api/message/clear", {{"APIKey", kApiKey}, {"Username", "alice"}});
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, error_body(kNoDatabase, kClearErrorExtra));
}

// ------------------------------------------------------------------------------------------
// 3. /api/message/clear

TEST(HistoryE2E, ClearWithApiKeyAndWithToken) {
    Server server(history_config());
    const std::uint16_t port = server.port();
    const std::string alice_token = sign(port, {{"sub", "alice"}});
    const std::string bob_token = sign(port, {{"sub", "bob"}});
    const std::string carol_token = sign(port, {{"sub", "carol"}});
    WsClient alice(port);
    WsClient bob(port);
    WsClient carol(port);
    alice.login("alice", alice_token);
    bob.login("bob", bob_token);
    carol.login("carol", carol_token);
    ASSERT_EQ(carol.username(), "carol");

    std::vector<Dm> alice_bob, alice_carol, bob_carol;
    alice_bob.push_back(send_dm(alice, bob, "a to b 1"));
    alice_bob.push_back(send_dm(bob, alice, "b to a"));
    alice_bob.push_back(send_dm(alice, bob, "a to b 2"));
    alice_carol.push_back(send_dm(carol, alice, "c to a"));
    alice_carol.push_back(send_dm(alice, carol, "a to c"));
    bob_carol.push_back(send_dm(bob, carol, "b to c"));
    const auto t0 = server.started_unix_min();

    // Wrong key: nothing erased.
    auto res = post(port, "/api/message/clear", {{"APIKey", "wrong"}, {"Username", "alice"}});
    EXPECT_EQ(res.status, 401u);
    EXPECT_EQ(res.body, error_body("Authentication denied.", kClearErrorExtra));
    expect_history(history(port, bob_token, "alice"), newest_first(alice_bob, 0, 3), 0, t0,
                   unix_now());

    // By the host website: every thread involving alice, the partners' side included.
    res = post(port, "/api/message/clear", {{"APIKey", kApiKey}, {"Username", "alice"}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"MessagesErased\": 5\n}\n");
    const auto now = unix_now();
    expect_history(history(port, alice_token, "bob"), {}, 0, t0, now);
    expect_history(history(port, bob_token, "alice"), {}, 0, t0, now);
    expect_history(history(port, alice_token, "carol"), {}, 0, t0, now);
    expect_history(history(port, carol_token, "alice"), {}, 0, t0, now);
    expect_history(history(port, carol_token, "bob"), bob_carol, 0, t0, now);
    res = usernames(port, alice_token);
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, error_body("you have no direct messages stored on this chat server",
                                   kUsernamesErrorExtra));

    // By the user's own token (the caller need not be online).
    bob.close();
    res = post(port, "/api/message/clear", {{"JWTToken", bob_token}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"MessagesErased\": 1\n}\n");
    expect_history(history(port, carol_token, "bob"), {}, 0, t0, unix_now());
    res = post(port, "/api/message/clear", {{"JWTToken", bob_token}});
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"MessagesErased\": 0\n}\n");
}

// ------------------------------------------------------------------------------------------
// 4. Take-back of stored DMs

TEST(HistoryE2E, TakebackRemovesStoredDm) {
    Server server(history_config());
    const std::uint16_t port = server.port();
    const std::string alice_token = sign(port, {{"sub", "alice"}});
    const std::string bob_token = sign(port, {{"sub", "bob"}});
    const std::string carol_token = sign(port, {{"sub", "carol"}});
    auto alice = std::make_unique<WsClient>(port);
    WsClient bob(port);
    WsClient carol(port);
    alice->login("alice", alice_token);
    bob.login("bob", bob_token);
    carol.login("carol", carol_token);
    ASSERT_EQ(carol.username(), "carol");

    const Dm d1 = send_dm(*alice, bob, "first");
    const Dm d2 = send_dm(bob, *alice, "second");
    const Dm d3 = send_dm(*alice, bob, "third");
    const auto t0 = server.started_unix_min();

    // Someone else's message: refused, nothing broadcast, nothing deleted.
    bob.send({{"action", "takeback"}, {"msgID", d1.id}});
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{chat_server(kNotYourMessage)});
    EXPECT_EQ(alice->sync(), std::vector<bj::object>{});
    expect_history(history(port, bob_token, "alice"), {d3, d2, d1}, 0, t0, unix_now());

    // The sender: every authenticated user is told, and the row is gone.
    const bj::object takeback1{{"action", "takeback"}, {"msgID", d1.id}};
    alice->send({{"action", "takeback"}, {"msgID", d1.id}});
    EXPECT_EQ(alice->sync(), std::vector<bj::object>{takeback1});
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{takeback1});
    EXPECT_EQ(carol.sync(), std::vector<bj::object>{takeback1});
    expect_history(history(port, bob_token, "alice"), {d3, d2}, 0, t0, unix_now());

    // From a later session: the stored row proves ownership (protocol.md §12).
    alice->close();
    alice.reset();
    WsClient alice2(port);
    alice2.login("alice", alice_token);
    ASSERT_EQ(alice2.username(), "alice");
    const bj::object takeback3{{"action", "takeback"}, {"msgID", d3.id}};
    alice2.send({{"action", "takeback"}, {"msgID", d3.id}});
    EXPECT_EQ(alice2.sync(), std::vector<bj::object>{takeback3});
    EXPECT_EQ(bob.recv_until([](const bj::object& m) { return is_action(m, "takeback"); }),
              std::optional<bj::object>(takeback3));
    expect_history(history(port, alice_token, "bob"), {d2}, 0, t0, unix_now());

    // But not bob's message, even though it is in alice's thread.
    alice2.send({{"action", "takeback"}, {"msgID", d2.id}});
    EXPECT_EQ(alice2.sync(), std::vector<bj::object>{chat_server(kNotYourMessage)});
    expect_history(history(port, alice_token, "bob"), {d2}, 0, t0, unix_now());
}

// ------------------------------------------------------------------------------------------
// 5. Report webhook

ServerConfig webhook_config(const WebhookReceiver& receiver) {
    ServerConfig c;
    c.jwt_enabled = true;
    c.jwt_strict = false;  // guests and JWT users alike
    c.report_webhook_url = receiver.url("/barertc/report");
    c.profile_webhook_url = receiver.url("/barertc/user-profile");
    return c;
}

bj::object report_action(std::string_view channel, std::string_view about,
                         std::string_view message) {
    return {{"action", "report"},    {"channel", channel},
            {"username", about},     {"timestamp", "Wed Jul 02 2025 13:00:00 GMT-0400"},
            {"reason", "Spam"},      {"message", message},
            {"comment", "user note"}};
}

bj::object report_body(std::string_view from, std::string_view about, std::string_view channel,
                       std::string_view timestamp, std::string_view reason,
                       std::string_view message, std::string_view comment) {
    return {{"Action", "report"},
            {"APIKey", kApiKey},
            {"Report", bj::object{{"FromUsername", from},
                                  {"AboutUsername", about},
                                  {"Channel", channel},
                                  {"Timestamp", timestamp},
                                  {"Reason", reason},
                                  {"Message", message},
                                  {"Comment", comment}}}};
}

// The request must be a JSON POST to `path`; returns its parsed body.
bj::object webhook_body(const ReceivedRequest& r, std::string_view path) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, path);
    EXPECT_EQ(r.header("Content-Type").value_or("<none>"), "application/json");
    boost::system::error_code ec;
    auto v = bj::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    EXPECT_TRUE(v.is_object()) << r.body;
    return v.is_object() ? v.get_object() : bj::object{};
}

TEST(WebhookE2E, ReportIsPostedAndTheReporterToldTheOutcome) {
    WebhookReceiver receiver;
    Server server(webhook_config(receiver));
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    alice.send(report_action("lobby", "bob", "the text"));
    expect_notice(alice, kReportDelivered);
    auto got = receiver.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    // Compared serialised, so the key order counts too.
    EXPECT_EQ(
        bj::serialize(webhook_body(got[0], "/barertc/report")),
        bj::serialize(report_body("alice", "bob", "lobby", "Wed Jul 02 2025 13:00:00 GMT-0400",
                                  "Spam", "the text", "user note")));
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{}) << "the reported user is not told";

    // A DM report carries the recent context of that conversation (protocol.md §5.14).
    send_dm(bob, alice, "  you are *silly*  ");
    alice.send(report_action("@bob", "bob", "dm text"));
    expect_notice(alice, kReportDelivered);
    got = receiver.wait_for(2);
    ASSERT_EQ(got.size(), 2u);
    const auto report = webhook_body(got[1], "/barertc/report").at("Report").as_object();
    const std::string message = str(report, "Message");
    const std::string prefix = "dm text\n\nRecent message context:\n\n";
    EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
    static const std::regex line(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[bob\] you are \*silly\*)");
    EXPECT_TRUE(std::regex_match(message.substr(std::min(prefix.size(), message.size())), line))
        << message;
    EXPECT_EQ(str(report, "Channel"), "@bob");

    // No context kept for a pair that never talked.
    alice.send(report_action("@carol", "carol", "dm text"));
    expect_notice(alice, kReportDelivered);
    got = receiver.wait_for(3);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(str(webhook_body(got[2], "/barertc/report").at("Report").as_object(), "Message"),
              prefix + "(No recent message history in this channel)");
}

TEST(WebhookE2E, ReportFailureIsToldToTheReporter) {
    WebhookReceiver receiver;
    receiver.respond_with(500, "{\"error\": \"boom\"}");
    Server server(webhook_config(receiver));
    WsClient alice(server.port());
    alice.login("alice");
    alice.send(report_action("lobby", "bob", "the text"));
    expect_notice(alice,
                  "Error sending the report to the website: unexpected error from webhook URL");
    EXPECT_EQ(receiver.wait_for(1).size(), 1u);
}

TEST(WebhookE2E, SlowReportDoesNotDelayChat) {
    WebhookReceiver receiver;
    receiver.respond_with(200, "", 3s);
    Server server(webhook_config(receiver));
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    alice.send(report_action("lobby", "bob", "the text"));
    ASSERT_EQ(receiver.wait_for(1).size(), 1u) << "the report is pending from here on";
    alice.say("lobby", "alice while the report is pending");
    bob.say("lobby", "bob while the report is pending");

    // Both public messages reach alice before the answer to her report does.
    std::vector<bj::object> before;
    auto reply = alice.recv_until(
        [](const bj::object& m) { return m == chat_server(kReportDelivered); }, 8s, &before);
    ASSERT_TRUE(reply) << dump(before);
    std::vector<std::string> texts;
    for (const auto& m : with_action(before, "message")) {
        texts.push_back(str(m, "username") + ": " + str(m, "message"));
    }
    EXPECT_EQ(texts.size(), 2u) << dump(before);
    EXPECT_EQ(std::count_if(texts.begin(), texts.end(),
                            [](const std::string& t) {
                                return t.find("alice: ") == 0 &&
                                       t.find("alice while the report is pending") !=
                                           std::string::npos;
                            }),
              1)
        << dump(before);
    EXPECT_EQ(std::count_if(texts.begin(), texts.end(),
                            [](const std::string& t) {
                                return t.find("bob: ") == 0 &&
                                       t.find("bob while the report is pending") !=
                                           std::string::npos;
                            }),
              1)
        << dump(before);
    EXPECT_EQ(receiver.requests().size(), 1u);
}

TEST(WebhookE2E, ReportWithWebhookDisabled) {
    Server server;  // both webhooks present but disabled
    WsClient alice(server.port());
    alice.login("alice");
    alice.send(report_action("lobby", "bob", "the text"));
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{chat_server(
                                "Unfortunately, the report webhook is not enabled so your "
                                "report could not be received!")});
}

TEST(WebhookE2E, NsfwCommandPostsReport) {
    WebhookReceiver receiver;
    Server server(webhook_config(receiver));
    const std::string op_token = sign(server.port(), {{"sub", "modguy"}, {"op", true}});
    WsClient op(server.port());
    WsClient bob(server.port());
    op.login("modguy", op_token);
    bob.login("bob");
    ASSERT_EQ(op.username(), "modguy");
    bob.send({{"action", "me"}, {"video", 1}, {"status", "online"}});
    bob.sync();

    const std::int64_t before = unix_now();
    op.say("lobby", "/nsfw bob");
    expect_notice(op, "bob now has their camera marked as Explicit");
    const std::int64_t after = unix_now();
    const auto bob_got = bob.sync();
    const auto me = with_action(bob_got, "me");
    ASSERT_EQ(me.size(), 1u) << dump(bob_got);
    EXPECT_EQ(me[0], (bj::object{{"action", "me"}, {"username", "bob"}, {"video", 3}}));

    auto got = receiver.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    const auto body = webhook_body(got[0], "/barertc/report");
    const auto* report = body.if_contains("Report");
    ASSERT_TRUE(report && report->is_object()) << got[0].body;
    const std::string timestamp = str(report->get_object(), "Timestamp");
    const auto t = parse_rfc3339(timestamp);
    ASSERT_TRUE(t) << timestamp;
    EXPECT_GE(*t, before - 1);
    EXPECT_LE(*t, after + 1);
    EXPECT_EQ(bj::serialize(body),
              bj::serialize(report_body("modguy", "bob", "n/a", timestamp, "NSFW Command Issued",
                                        "The admin @modguy marks the webcam red for user @bob",
                                        "An admin marked their webcam as explicit.")));
}

// ------------------------------------------------------------------------------------------
// 6. /api/profile

constexpr std::string_view kProfileAnswer =
    R"({"StatusCode":200,"Data":{"OK":true,"Error":"","Headline":"Hi",)"
    R"("ProfileFields":[{"Name":"Age","Value":"30yo"}]}})";

TEST(WebhookE2E, ProfileFromTheWebhook) {
    WebhookReceiver receiver;
    receiver.respond_with(200, std::string(kProfileAnswer));
    Server server(webhook_config(receiver));
    const std::uint16_t port = server.port();
    const std::string token = user_jwt("alice");  // the caller need not be online

    auto res = post(port, "/api/profile", {{"JWTToken", token}, {"Username", "soandso"}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(res.body,
              "{\n"
              "  \"OK\": true,\n"
              "  \"Headline\": \"Hi\",\n"
              "  \"ProfileFields\": [\n"
              "    {\n"
              "      \"Name\": \"Age\",\n"
              "      \"Value\": \"30yo\"\n"
              "    }\n"
              "  ]\n"
              "}\n");
    auto got = receiver.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(bj::serialize(webhook_body(got[0], "/barertc/user-profile")),
              bj::serialize(
                  bj::object{{"Action", "profile"}, {"APIKey", kApiKey}, {"Username", "soandso"}}));

    // The website's HTTP status does not matter once the body parses.
    receiver.respond_with(503, std::string(kProfileAnswer));
    res = post(port, "/api/profile", {{"JWTToken", token}, {"Username", "soandso"}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(body_object(res).at("Headline"), "Hi") << res.body;

    // StatusCode in the body other than 200: 500 with Data as the body.
    receiver.respond_with(
        200, R"({"StatusCode":404,"Data":{"OK":false,"Error":"That user does not exist"}})");
    res = post(port, "/api/profile", {{"JWTToken", token}, {"Username", "nobody"}});
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, error_body("That user does not exist"));
    receiver.respond_with(200, R"({"StatusCode":404,"Data":{"OK":true,"Headline":"Hi"}})");
    res = post(port, "/api/profile", {{"JWTToken", token}, {"Username", "nobody"}});
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"Headline\": \"Hi\"\n}\n");
    // Data.Error set with StatusCode 200: 500 as well.
    receiver.respond_with(200, R"({"StatusCode":200,"Data":{"OK":false,"Error":"Nope"}})");
    res = post(port, "/api/profile", {{"JWTToken", token}, {"Username", "nobody"}});
    EXPECT_EQ(res.status, 500u);
    EXPECT_EQ(res.body, error_body("Nope"));

    // A body that is not JSON.
    receiver.respond_with(200, "this is not json");
    res = post(port, "/api/profile", {{"JWTToken", token}, {"Username", "nobody"}});
    EXPECT_EQ(res.status, 500u);
    const std::string prefix = "Didn't get expected response for profile data: ";
    EXPECT_EQ(str(body_object(res), "Error").substr(0, prefix.size()), prefix) << res.body;
    EXPECT_EQ(receiver.requests().size(), 6u);
}

TEST(WebhookE2E, ProfileWithWebhookDisabledOrUnreachable) {
    const std::string expected =
        error_body("Didn't get expected response for profile data: unexpected end of JSON input");
    {
        ServerConfig config;
        config.jwt_enabled = true;
        Server server(config);  // profile webhook present but disabled
        const auto res = post(server.port(), "/api/profile",
                              {{"JWTToken", user_jwt("alice")}, {"Username", "bob"}});
        EXPECT_EQ(res.status, 500u);
        EXPECT_EQ(res.body, expected);
    }
    {
        std::string url;
        {
            WebhookReceiver gone;  // a port that nobody listens on any more
            url = gone.url("/profile");
        }
        ServerConfig config;
        config.jwt_enabled = true;
        config.profile_webhook_url = url;
        Server server(config);
        const auto res = post(server.port(), "/api/profile",
                              {{"JWTToken", user_jwt("alice")}, {"Username", "bob"}});
        EXPECT_EQ(res.status, 500u);
        EXPECT_EQ(res.body, expected);
    }
}

// ------------------------------------------------------------------------------------------
// 7. Admin API

ServerConfig admin_config() {
    ServerConfig c;
    c.jwt_enabled = true;
    c.jwt_strict = false;
    return c;
}

TEST(AdminApiE2E, AmendJwt) {
    Server server(admin_config());
    const std::uint16_t port = server.port();
    WsClient alice(port);
    WsClient guest(port);
    alice.login("alice", sign(port, {{"sub", "alice"}}));
    guest.login("guest");
    ASSERT_EQ(alice.username(), "alice");
    const std::string fresh =
        sign(port, {{"sub", "alice"}, {"nick", "Ally"}, {"rules", bj::array{"redcam"}}});

    // Bad tokens: 401, whatever the user.
    const auto now = unix_now();
    for (const std::string& bad :
         {std::string(), std::string("garbage"), user_jwt("alice", "another secret"),
          make_jwt(
              {{"sub", "alice"}, {"iat", now - 900}, {"nbf", now - 900}, {"exp", now - 600}})}) {
        SCOPED_TRACE(bad);
        const auto res = post(port, "/api/amend-jwt",
                              {{"APIKey", kApiKey}, {"Username", "alice"}, {"JWTToken", bad}});
        EXPECT_EQ(res.status, 401u);
        EXPECT_EQ(res.body, error_body("Invalid JWT token."));
    }
    // Offline user.
    auto res = post(port, "/api/amend-jwt",
                    {{"APIKey", kApiKey}, {"Username", "nobody"}, {"JWTToken", fresh}});
    EXPECT_EQ(res.status, 404u);
    EXPECT_EQ(res.body, error_body("User nobody is not online"));
    // Wrong key.
    res = post(port, "/api/amend-jwt",
               {{"APIKey", "wrong"}, {"Username", "alice"}, {"JWTToken", fresh}});
    EXPECT_EQ(res.status, 401u);
    EXPECT_EQ(res.body, error_body("Authentication denied."));
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{}) << "nothing changed so far";

    // Success: a ping with the re-signed new claims and their rules, then a me.
    res = post(port, "/api/amend-jwt",
               {{"APIKey", kApiKey}, {"Username", "alice"}, {"JWTToken", fresh}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true\n}\n");
    const auto got = alice.sync();
    ASSERT_EQ(got.size(), 2u) << dump(got);
    ASSERT_TRUE(is_action(got[0], "ping")) << dump(got);
    EXPECT_EQ(got[0].size(), 3u) << dump(got);
    EXPECT_EQ(got[0].at("jwtRules"), (bj::object{{"IsNoBroadcastRule", false},
                                                 {"IsNoDarkVideoRule", false},
                                                 {"IsNoImageRule", false},
                                                 {"IsNoVideoRule", false},
                                                 {"IsRedCamRule", true}}));
    const std::string token = str(got[0], "jwt");
    EXPECT_TRUE(jwt_signature_ok(token)) << token;
    const auto claims = jwt_payload(token);
    EXPECT_EQ(str(claims, "sub"), "alice");
    EXPECT_EQ(str(claims, "nick"), "Ally");
    EXPECT_EQ(claims.at("rules"), bj::array{"redcam"});
    EXPECT_EQ(got[1], (bj::object{{"action", "me"}, {"username", "alice"}}));

    // A guest session has no claims: accepted, nothing changes.
    res = post(port, "/api/amend-jwt",
               {{"APIKey", kApiKey}, {"Username", "guest"}, {"JWTToken", fresh}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true\n}\n");
    EXPECT_EQ(guest.sync(), std::vector<bj::object>{});
}

TEST(AdminApiE2E, BlockNow) {
    Server server(admin_config());
    const std::uint16_t port = server.port();
    WsClient alice(port);
    WsClient bob(port);
    WsClient carol(port);
    alice.login("alice");
    bob.login("bob");
    carol.login("carol");

    auto res = post(port, "/api/block/now", {{"APIKey", kApiKey}, {"Usernames", bj::array{}}});
    EXPECT_EQ(res.status, 200u);
    res = post(port, "/api/block/now",
               {{"APIKey", kApiKey}, {"Usernames", bj::array{"alice", "bob", "ghost"}}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true\n}\n");
    EXPECT_EQ(alice.sync(),
              (std::vector<bj::object>{{{"action", "block"}, {"username", "bob"}},
                                       {{"action", "block"}, {"username", "ghost"}}}));
    EXPECT_EQ(bob.sync(), (std::vector<bj::object>{{{"action", "block"}, {"username", "alice"}},
                                                   {{"action", "block"}, {"username", "ghost"}}}));
    EXPECT_EQ(carol.sync(), std::vector<bj::object>{});

    // They no longer see each other's public messages or DMs; carol sees both.
    alice.say("lobby", "from alice");
    alice.send({{"action", "message"}, {"channel", "@bob"}, {"message", "psst"}});
    EXPECT_EQ(with_action(alice.sync(), "message").size(), 2u) << "the sender's own echoes";
    bob.say("lobby", "from bob");
    EXPECT_EQ(with_action(bob.sync(), "message").size(), 1u);
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{});
    const auto carol_got = with_action(carol.sync(), "message");
    ASSERT_EQ(carol_got.size(), 2u) << dump(carol_got);
    EXPECT_EQ(str(carol_got[0], "username"), "alice");
    EXPECT_EQ(str(carol_got[1], "username"), "bob");
    const auto bob_got = bob.sync();
    EXPECT_EQ(bob_got, std::vector<bj::object>{});

    res = post(port, "/api/block/now", {{"APIKey", "nope"}, {"Usernames", bj::array{"carol"}}});
    EXPECT_EQ(res.status, 401u);
    EXPECT_EQ(res.body, error_body("Authentication denied."));
}

TEST(AdminApiE2E, DisconnectNow) {
    Server server(admin_config());
    const std::uint16_t port = server.port();
    WsClient alice(port);
    WsClient bob(port);
    WsClient carol(port);
    alice.login("alice");
    bob.login("bob");
    carol.login("carol");

    auto res = post(port, "/api/disconnect/now",
                    {{"APIKey", kApiKey},
                     {"Usernames", bj::array{"bob", "nobody", "carol"}},
                     {"Message", "Please come back later."},
                     {"Kick", true}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"Removed\": 2\n}\n");
    const std::vector<bj::object> notice_then_disconnect{chat_server("Please come back later."),
                                                         {{"action", "disconnect"}}};
    EXPECT_EQ(bob.sync(), notice_then_disconnect);
    EXPECT_EQ(carol.sync(), notice_then_disconnect);
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{}) << "no presence during the reboot grace";

    // They are logged out (the sockets stay open).
    bob.say("lobby", "am I still here?");
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{chat_server(kMustLogIn)});
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{});

    // Without a message: only the disconnect.
    res = post(port, "/api/disconnect/now",
               {{"APIKey", kApiKey}, {"Usernames", bj::array{"alice"}}, {"Kick", false}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"Removed\": 1\n}\n");
    EXPECT_EQ(alice.sync(), (std::vector<bj::object>{{{"action", "disconnect"}}}));

    res = post(port, "/api/disconnect/now",
               {{"APIKey", kApiKey}, {"Usernames", bj::array{"alice", "bob"}}});
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"Removed\": 0\n}\n");
    res =
        post(port, "/api/disconnect/now", {{"APIKey", "wrong"}, {"Usernames", bj::array{"alice"}}});
    EXPECT_EQ(res.status, 401u);
    EXPECT_EQ(res.body, error_body("Authentication denied.", {{"Removed", 0}}));
}

TEST(AdminApiE2E, ShutdownExitsWithStatusOne) {
    Server server(admin_config());
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    const auto t0 = Clock::now();
    const auto res = post(server.port(), "/api/shutdown", {{"APIKey", kApiKey}});
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true\n}\n");
    expect_notice(alice, kRebootNotice);
    expect_notice(bob, kRebootNotice);
    // Then the graceful path of decisions.md §4: close 1001 while the clients keep reading.
    EXPECT_EQ(alice.wait_closed(6s), std::optional<unsigned>(1001u)) << alice.end_reason();
    EXPECT_EQ(bob.wait_closed(6s), std::optional<unsigned>(1001u)) << bob.end_reason();
    const auto status = server.wait_exit(6s);
    EXPECT_EQ(status, std::optional<int>(1)) << "exit status after /api/shutdown";
    EXPECT_GE(Clock::now() - t0, 1s) << "the documented delay is about 2 s";
    EXPECT_LE(Clock::now() - t0, 5s);
}

TEST(AdminApiE2E, MethodContentTypeAndKeyChecks) {
    Server server(admin_config());
    const std::uint16_t port = server.port();
    struct Endpoint {
        std::string_view path;
        bj::object extra;  // keys every error body carries
        bool keyed;        // checks APIKey
    };
    const std::vector<Endpoint> endpoints{
        {"/api/authenticate", {}, true},
        {"/api/amend-jwt", {}, true},
        {"/api/shutdown", {}, true},
        {"/api/blocklist", {}, true},
        {"/api/block/now", {}, true},
        {"/api/disconnect/now", {{"Removed", 0}}, true},
        {"/api/profile", {}, false},
        {"/api/message/history", kHistoryErrorExtra, false},
        {"/api/message/usernames", kUsernamesErrorExtra, false},
        {"/api/message/clear", kClearErrorExtra, true},
    };
    const std::string json_body = "{\"APIKey\": \"wrong key\", \"Username\": \"alice\"}";
    for (const auto& e : endpoints) {
        SCOPED_TRACE(std::string(e.path));
        for (verb method : {verb::get, verb::put, verb::options}) {
            const auto res = http_request(port, method, e.path, json_body,
                                          {{"Content-Type", "application/json"}});
            EXPECT_EQ(res.status, 400u) << method;
            EXPECT_EQ(res.header("Content-Type").value_or(""), "application/json");
            EXPECT_EQ(res.body, error_body("Only POST methods allowed", e.extra)) << method;
        }
        for (std::string_view type : {"application/json; charset=utf-8", "text/plain", ""}) {
            Headers headers;
            if (!type.empty()) headers.emplace_back("Content-Type", type);
            const auto res = http_request(port, verb::post, e.path, json_body, headers);
            EXPECT_EQ(res.status, 400u) << type;
            EXPECT_EQ(res.body, error_body("Only application/json content-types allowed", e.extra))
                << type;
        }
        if (e.keyed) {
            const auto res = post_json(port, e.path, json_body);
            EXPECT_EQ(res.status, 401u);
            EXPECT_EQ(res.body, error_body("Authentication denied.", e.extra));
        }
    }
    // None of this shut the server down.
    EXPECT_FALSE(server.wait_exit(2500ms)) << "the server exited";
    EXPECT_EQ(http_get(port, "/api/statistics").status, 200u);
}

}  // namespace
}  // namespace e2e
