// End-to-end tests of the polling transport at /poll (protocol.md §20): login, chatting with a
// WebSocket user, the exact error answers, the fix for stolen usernames (§22.3), kicks and
// bans, and the idle timeout with its piggy-backed pings (§16, §17).

#include "harness.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <regex>
#include <thread>

namespace e2e {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kExpired =
    "Your authentication has expired, please log back into the chat again.";
constexpr std::string_view kBothRequired =
    "Authentication error: SessionID and Username both required.";
constexpr std::string_view kNotLoggedIn = "Not logged in.";
constexpr std::string_view kTimedOut = "has timed out!";

// The exact answer to a request rejected before any session was looked at.
std::string error_body(std::string_view text) {
    return R"({"messages":[{"action":"error","username":"ChatServer","message":")" +
           std::string(text) + "\"}]}\n";
}

const std::string kExpiredBody =
    R"({"messages":[{"action":"error","username":"ChatServer","message":")" +
    std::string(kExpired) + R"("},{"action":"disconnect"}]})" + "\n";

struct PollReply {
    unsigned status = 0;
    std::string body;
    std::string content_type;
    bj::object json;

    std::vector<bj::object> messages() const {
        std::vector<bj::object> out;
        if (const auto* list = json.if_contains("messages"); list && list->is_array()) {
            for (const auto& m : list->get_array()) out.push_back(m.as_object());
        }
        return out;
    }
};

PollReply post_poll(std::uint16_t port, std::string_view body) {
    const auto r = post_json(port, "/poll", body);
    PollReply out{r.status, r.body, r.header("Content-Type").value_or(""), {}};
    try {
        out.json = parse_object(r.body);
    } catch (const std::exception&) {
        ADD_FAILURE() << "not a JSON object: " << r.body;
    }
    return out;
}

// A polling client that behaves like the page: it sends one message per request, and takes
// its username and session id from every answer.
class PollUser {
  public:
    explicit PollUser(std::uint16_t port) : port_(port) {}

    PollReply send(const bj::object& msg) {
        bj::object request{{"msg", msg}};
        if (!session_id_.empty()) {
            request["username"] = username_;
            request["session_id"] = session_id_;
        }
        auto reply = post_poll(port_, bj::serialize(request));
        username_ = str(reply.json, "username");
        session_id_ = str(reply.json, "session_id");
        return reply;
    }

    PollReply login(std::string_view name, std::string_view jwt = {}) {
        bj::object m{{"action", "login"}, {"username", name}};
        if (!jwt.empty()) m["jwt"] = jwt;
        return send(m);
    }

    // The page's 5-second poll; fails the test unless it is answered with 200.
    std::vector<bj::object> poll() {
        const auto reply = send({{"action", "ping"}});
        EXPECT_EQ(reply.status, 200u) << reply.body;
        return reply.messages();
    }

    PollReply say(std::string_view channel, std::string_view text) {
        return send({{"action", "message"}, {"channel", channel}, {"message", text}});
    }

    const std::string& username() const { return username_; }
    const std::string& session_id() const { return session_id_; }

  private:
    std::uint16_t port_;
    std::string username_;
    std::string session_id_;
};

bj::object message(std::string_view channel, std::string_view from, std::string_view html,
                   std::int64_t id) {
    return {{"action", "message"},
            {"channel", channel},
            {"username", from},
            {"message", html},
            {"msgID", id}};
}

bool is_uuid_v4(const std::string& s) {
    static const std::regex uuid(
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    return std::regex_match(s, uuid);
}

// The login burst during the reboot grace (protocol.md §7, §19): me, echo, four welcomes.
void expect_login_burst(const std::vector<bj::object>& got, std::string_view name) {
    ASSERT_EQ(got.size(), 6u) << dump(got);
    EXPECT_EQ(got[0], (bj::object{{"action", "me"}, {"username", name}}));
    EXPECT_EQ(got[1], (bj::object{{"action", "echo"}}));
    EXPECT_EQ(got[2], chat_server("<p>" + std::string(kWelcomeLobby1) + "</p>", "lobby"));
    EXPECT_TRUE(str(got[3], "message").starts_with("<p>" + std::string(kWelcomeLobby2Start)))
        << got[3];
    EXPECT_EQ(got[4], chat_server("<p>" + std::string(kWelcomeOfftopic) + "</p>", "offtopic"));
    EXPECT_EQ(got[5], chat_server("<p>" + std::string(kWelcomeVip) + "</p>", "vip"));
}

TEST(PollE2E, LoginGivesCredentialsAndTheLoginBurst) {
    Server server;
    PollUser alice(server.port());
    const auto reply = alice.login("alice");
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(reply.content_type, "application/json");
    EXPECT_EQ(alice.username(), "alice");
    EXPECT_TRUE(is_uuid_v4(alice.session_id())) << alice.session_id();
    // Compact, in this key order, credentials first.
    EXPECT_EQ(reply.body.rfind(R"({"username":"alice","session_id":")" + alice.session_id() +
                                   R"(","messages":[{"action":"me","username":"alice"},)",
                               0),
              0u)
        << reply.body;
    expect_login_burst(reply.messages(), "alice");

    // Everything was drained: the next poll has nothing, and the same credentials.
    const std::string sid = alice.session_id();
    const auto empty = alice.send({{"action", "ping"}});
    ASSERT_EQ(empty.status, 200u);
    EXPECT_EQ(empty.body, R"({"username":"alice","session_id":")" + sid +
                              R"(","messages":[]})"
                              "\n");

    // A login on a live session is handled like any message (step 7): same session, same name.
    const auto again = alice.login("alice");
    ASSERT_EQ(again.status, 200u) << again.body;
    EXPECT_EQ(alice.session_id(), sid);
    EXPECT_EQ(alice.username(), "alice");
    expect_login_burst(again.messages(), "alice");

    // Keys are matched case-insensitively, like every JSON body the server reads.
    const auto upper = post_poll(
        server.port(), R"({"Username":"alice","Session_ID":")" + sid +
                           R"(","Msg":{"Action":"message","Channel":"lobby","Message":"hi"}})");
    ASSERT_EQ(upper.status, 200u) << upper.body;
    ASSERT_EQ(upper.messages().size(), 1u) << upper.body;
    EXPECT_EQ(str(upper.messages()[0], "message"), "<p>hi</p>");
}

TEST(PollE2E, ChatsBothWaysWithAWebSocketUser) {
    Server server;
    WsClient bob(server.port());
    bob.login("bob");
    PollUser alice(server.port());
    ASSERT_EQ(alice.login("alice").status, 200u);

    // Poll → socket: the sender's own copy comes back in the answer to the same request.
    const auto sent = alice.say("lobby", "hello from polling");
    ASSERT_EQ(sent.status, 200u) << sent.body;
    ASSERT_EQ(sent.messages().size(), 1u) << sent.body;
    const std::int64_t id = num(sent.messages()[0], "msgID");
    const auto expected = message("lobby", "alice", "<p>hello from polling</p>", id);
    EXPECT_EQ(sent.messages()[0], expected);
    EXPECT_EQ(bob.recv(), expected);

    // Socket → poll: once bob has his own copy, alice's is queued too.
    bob.say("lobby", "hello from a socket");
    EXPECT_EQ(bob.recv(), message("lobby", "bob", "<p>hello from a socket</p>", id + 1));
    EXPECT_EQ(
        alice.poll(),
        (std::vector<bj::object>{message("lobby", "bob", "<p>hello from a socket</p>", id + 1)}));

    // Direct messages both ways.
    const auto dm = alice.say("@bob", "psst");
    ASSERT_EQ(dm.status, 200u);
    EXPECT_EQ(dm.messages(),
              (std::vector<bj::object>{message("@bob", "alice", "<p>psst</p>", id + 2)}));
    EXPECT_EQ(bob.recv(), message("@alice", "alice", "<p>psst</p>", id + 2));

    bob.say("@alice", "hi back");
    EXPECT_EQ(bob.recv(), message("@alice", "bob", "<p>hi back</p>", id + 3));
    EXPECT_EQ(alice.poll(),
              (std::vector<bj::object>{message("@bob", "bob", "<p>hi back</p>", id + 3)}));

    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});
    EXPECT_EQ(alice.poll(), std::vector<bj::object>{});
}

TEST(PollE2E, MalformedRequestsGetExactErrors) {
    Server server;
    const auto port = server.port();

    const auto get = http_get(port, "/poll");
    EXPECT_EQ(get.status, 400u);
    EXPECT_EQ(get.header("Content-Type"), "application/json");
    EXPECT_EQ(get.body, error_body("Only POST methods allowed"));

    const std::string login = R"({"msg":{"action":"login","username":"alice"}})";
    for (const std::string type : {"text/plain", "application/json; charset=utf-8", ""}) {
        const auto r = http_request(port, http::verb::post, "/poll", login,
                                    type.empty() ? Headers{} : Headers{{"Content-Type", type}});
        EXPECT_EQ(r.status, 400u) << type;
        EXPECT_EQ(r.body, error_body("Only application/json content-types allowed")) << type;
    }

    const std::vector<std::pair<std::string, std::string>> bad_bodies{
        {"", "EOF"},
        {"{", "unexpected EOF"},
        {"hello", "invalid character 'h' looking for beginning of value"},
        {R"({"username":5})",
         "json: cannot unmarshal number into Go struct field username of type string"},
        {R"({"msg":"login"})",
         "json: cannot unmarshal string into Go struct field msg of type object"},
        {R"({"username":"alice"})", std::string(kBothRequired)},
        {R"({"session_id":"0b5c0e47-0000-4000-8000-000000000000"})", std::string(kBothRequired)},
        {R"({"username":"alice","msg":{"action":"login","username":"alice"}})",
         std::string(kBothRequired)},
        {"{}", std::string(kNotLoggedIn)},
        {"null", std::string(kNotLoggedIn)},
        {R"({"msg":{"action":"ping"}})", std::string(kNotLoggedIn)},
        {R"({"msg":{"action":"message","channel":"lobby","message":"hi"}})",
         std::string(kNotLoggedIn)},
    };
    for (const auto& [body, error] : bad_bodies) {
        const auto r = post_json(port, "/poll", body);
        EXPECT_EQ(r.status, 400u) << body;
        EXPECT_EQ(r.body, error_body(error)) << body;
    }

    // None of that created a session: a real login still gets its name unchanged.
    PollUser alice(port);
    ASSERT_EQ(alice.login("alice").status, 200u);
    EXPECT_EQ(alice.username(), "alice");
}

TEST(PollE2E, WrongSessionIdTouchesNobody) {
    Server server;
    WsClient bob(server.port());
    bob.login("bob");
    PollUser alice(server.port());
    ASSERT_EQ(alice.login("alice").status, 200u);

    // Someone who knows a name but not its session id (protocol.md §22.3): rejected, and
    // neither the polling victim nor the socket victim is signed out.
    for (const std::string victim : {"alice", "bob", "nobody"}) {
        for (const std::string_view sid : {"0b5c0e47-0000-4000-8000-000000000000", "not-a-uuid"}) {
            const auto r = post_json(
                server.port(), "/poll",
                bj::serialize(bj::object{
                    {"username", victim},
                    {"session_id", sid},
                    {"msg",
                     {{"action", "message"}, {"channel", "lobby"}, {"message", "impostor"}}}}));
            EXPECT_EQ(r.status, 400u) << victim;
            EXPECT_EQ(r.body, kExpiredBody) << victim;
        }
    }
    // The right session id with somebody else's name is refused too.
    const auto swapped = post_json(server.port(), "/poll",
                                   bj::serialize(bj::object{{"username", "bob"},
                                                            {"session_id", alice.session_id()},
                                                            {"msg", {{"action", "ping"}}}}));
    EXPECT_EQ(swapped.status, 400u);
    EXPECT_EQ(swapped.body, kExpiredBody);

    // Both victims carry on.
    EXPECT_FALSE(bob.ended());
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{}) << "nobody said anything";
    const auto still = alice.say("lobby", "still here");
    ASSERT_EQ(still.status, 200u) << still.body;
    EXPECT_EQ(alice.username(), "alice");
    ASSERT_EQ(still.messages().size(), 1u) << still.body;
    EXPECT_EQ(str(still.messages()[0], "message"), "<p>still here</p>");
    const auto m = bob.recv_action("message");
    ASSERT_TRUE(m);
    EXPECT_EQ(str(*m, "username"), "alice");
}

TEST(PollE2E, GuestNameCollisionsAreRenamed) {
    Server server;
    WsClient first(server.port());
    first.login("alice");
    PollUser second(server.port());
    const auto reply = second.login("alice");
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(second.username(), "alice 2");
    expect_login_burst(reply.messages(), "alice 2");
    PollUser third(server.port());
    ASSERT_EQ(third.login("alice").status, 200u);
    EXPECT_EQ(third.username(), "alice 3");

    // The renamed user polls and posts under its new name.
    const auto said = second.say("lobby", "hi");
    ASSERT_EQ(said.status, 200u) << said.body;
    const auto m = first.recv_action("message");
    ASSERT_TRUE(m);
    EXPECT_EQ(str(*m, "username"), "alice 2");
    EXPECT_EQ(first.sync(), std::vector<bj::object>{});
}

TEST(PollE2E, FailedLoginGivesTheReasonWithoutCredentials) {
    ServerConfig config;
    config.jwt_enabled = true;
    config.jwt_strict = true;
    Server server(config);
    PollUser guest(server.port());
    auto reply = guest.login("guest");
    EXPECT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.body, R"({"messages":[{"action":"error","username":"ChatServer","message":")" +
                              std::string(kAuthRequired) + "\"}]}\n");
    reply = guest.login("guest", "not-a-token");
    EXPECT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.messages(), std::vector<bj::object>{chat_server(kAuthExpired)});
    EXPECT_EQ(guest.session_id(), "");

    // A token login works, and the failed attempts left no session holding the name.
    reply = guest.login("", user_jwt("guest"));
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(guest.username(), "guest");
    EXPECT_TRUE(is_uuid_v4(guest.session_id()));
}

TEST(PollE2E, KickedSessionFailsItsNextPollAndBanRefusesLogin) {
    ServerConfig config;
    config.jwt_enabled = true;
    config.jwt_strict = false;
    Server server(config);
    WsClient op(server.port());
    op.login("", make_jwt({{"sub", "boss"}, {"op", true}}));
    ASSERT_EQ(op.username(), "boss");
    PollUser bob(server.port());
    ASSERT_EQ(bob.login("bob").status, 200u);
    const std::string first_sid = bob.session_id();

    op.say("lobby", "/kick bob");
    op.sync();
    // The room cleared the session's name, so its credentials no longer match (step 5).
    auto reply = bob.send({{"action", "ping"}});
    EXPECT_EQ(reply.status, 400u);
    EXPECT_EQ(reply.body, kExpiredBody);
    EXPECT_EQ(bob.session_id(), "");
    const std::string stale = bj::serialize(
        bj::object{{"username", "bob"}, {"session_id", first_sid}, {"msg", {{"action", "ping"}}}});
    EXPECT_EQ(post_json(server.port(), "/poll", stale).body, kExpiredBody);

    // Logging in again gives a fresh session.
    reply = bob.login("bob");
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(bob.username(), "bob");
    EXPECT_NE(bob.session_id(), first_sid);

    // A ban signs the session out the same way, and the next login gets the reason and a
    // disconnect, without credentials.
    op.say("lobby", "/ban bob 1");
    op.sync();
    EXPECT_EQ(bob.send({{"action", "ping"}}).body, kExpiredBody);
    reply = bob.login("bob");
    EXPECT_EQ(reply.status, 200u);
    const auto messages = reply.messages();
    ASSERT_EQ(messages.size(), 2u) << reply.body;
    EXPECT_TRUE(str(messages[0], "message")
                    .starts_with("You are currently banned from entering the chat room."))
        << messages[0];
    EXPECT_EQ(messages[1], (bj::object{{"action", "disconnect"}}));
    EXPECT_EQ(bob.session_id(), "");
    EXPECT_EQ(bob.username(), "");
}

TEST(PollE2E, OverflowingSessionIsDropped) {
    ServerConfig config;
    // Small enough that a dozen messages nobody fetches overflow it, large enough for a
    // login burst.
    config.extra_toml = "\n[Limits]\nOutboxHardBytes = 4096\n";
    Server server(config);
    WsClient bob(server.port());
    bob.login("bob");
    PollUser alice(server.port());
    ASSERT_EQ(alice.login("alice").status, 200u);

    // Off topic keeps no echo, so the next login burst stays small.
    const std::string text(400, 'x');
    for (int i = 0; i < 12; ++i) {
        bob.say("offtopic", text);
        ASSERT_TRUE(bob.recv_action("message"));
    }
    EXPECT_EQ(alice.send({{"action", "ping"}}).body, kExpiredBody);

    // The name was released with the session.
    ASSERT_EQ(alice.login("alice").status, 200u);
    EXPECT_EQ(alice.username(), "alice");
    EXPECT_FALSE(bob.ended());
}

TEST(PollE2E, ShutdownDoesNotWaitForPollSessions) {
    Server server;
    PollUser alice(server.port());
    ASSERT_EQ(alice.login("alice").status, 200u);
    const auto before = Clock::now();
    EXPECT_EQ(server.stop(), 0);
    // The graceful shutdown waits up to 5 s for connections to close; a polling session has
    // nothing to close and must not hold it up.
    EXPECT_LT(Clock::now() - before, 3s);
}

// Waits for the presence notice about `name`, skipping who lists and pings.
std::optional<bj::object> presence_of(WsClient& ws, std::string_view name,
                                      std::chrono::milliseconds timeout) {
    return ws.recv_until(
        [&](const bj::object& m) {
            return is_action(m, "presence") && str(m, "username") == name &&
                   str(m, "message") != "has joined the room!";
        },
        timeout);
}

// Slow (75 s): the idle timeout is 60 s, checked every 10 s (protocol.md §17).
TEST(PollE2E, IdleSessionsTimeOutWhileActiveOnesGetPings) {
    Server server;
    WsClient bob(server.port());
    bob.login("bob");
    PollUser idler(server.port());
    ASSERT_EQ(idler.login("idler").status, 200u);
    PollUser active(server.port());
    ASSERT_EQ(active.login("active").status, 200u);
    const auto start = Clock::now();

    // The page polls every 5 s; a ping is piggy-backed at most once per 30 s (§16).
    int pings = 0;
    while (Clock::now() - start < 75s) {
        std::this_thread::sleep_for(5s);
        for (const auto& m : active.poll()) {
            if (!is_action(m, "ping")) continue;
            ++pings;
            EXPECT_EQ(m, (bj::object{{"action", "ping"}}));
        }
        ASSERT_EQ(active.username(), "active");
    }
    EXPECT_EQ(pings, 2);

    // Silent for 75 s: gone, and the others were told (after the presence grace).
    EXPECT_EQ(idler.send({{"action", "ping"}}).body, kExpiredBody);
    const auto gone = presence_of(bob, "idler", 1s);
    ASSERT_TRUE(gone);
    EXPECT_EQ(str(*gone, "message"), kTimedOut);
    EXPECT_FALSE(presence_of(bob, "active", 200ms));
}

}  // namespace
}  // namespace e2e
