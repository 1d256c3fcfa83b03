// End-to-end tests of bad input: broken frames, oversized messages, bad HTTP, bad tokens,
// strict mode and the WebSocket origin check (protocol.md §1, §5.1; auth.md §5; pages.md §2).
// After each bad input the test checks that the server still serves everybody else.

#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>

namespace e2e {
namespace {

using boost::beast::http::verb;

// `from` posts a message and `to` (and `from`) receive it: the room still works.
void expect_chat_works(WsClient& from, WsClient& to, std::string_view text) {
    from.say("lobby", text);
    const std::string html = "<p>" + std::string(text) + "</p>";
    const auto pred = [&](const bj::object& m) {
        return is_action(m, "message") && str(m, "message") == html;
    };
    EXPECT_TRUE(to.recv_until(pred)) << "room no longer delivers to " << to.username();
    EXPECT_TRUE(from.recv_until(pred)) << "room no longer echoes to " << from.username();
}

TEST(RobustnessE2E, MalformedFramesAreIgnoredAndConnectionStays) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    const std::vector<std::string> junk{
        "{",
        "not json at all",
        "",
        "[1, 2, 3]",
        "null",
        "\"message\"",
        "42",
        R"({"action":"message","channel":"lobby","message":"ok"} trailing)",
        // Wrong field types make the whole message invalid.
        R"({"action":"message","channel":"lobby","message":42})",
        R"({"action":"message","channel":["lobby"],"message":"x"})",
        R"({"action":5})",
        R"({"action":"me","video":"1"})",
        R"({"action":"me","video":1.5})",
        R"({"action":"me","dnd":"yes"})",
        R"({"action":"me","video":true})",
        R"({"action":"login","username":{"name":"x"}})",
        R"({"action":"blocklist","usernames":"bob"})",
        R"({"action":"takeback","msgID":"1"})",
    };
    for (const auto& frame : junk) {
        SCOPED_TRACE(frame);
        alice.send_text(frame);
        EXPECT_EQ(alice.sync(), std::vector<bj::object>{}) << "no reply expected";
        EXPECT_FALSE(alice.ended());
    }
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{}) << "nothing may leak to others";
    // Nothing changed: alice is still "alice" and not on camera.
    expect_chat_works(alice, bob, "still fine");
    // Keys are matched case-insensitively and unknown keys are ignored (README conventions).
    alice.send_text(R"({"Action":"message","CHANNEL":"lobby","Message":"caps","extra":[1]})");
    const auto caps = bob.recv_action("message");
    ASSERT_TRUE(caps);
    EXPECT_EQ(str(*caps, "channel"), "lobby");
    EXPECT_EQ(str(*caps, "message"), "<p>caps</p>");
    const auto stats = http_get(server.port(), "/api/statistics");
    EXPECT_NE(stats.body.find("\"Blue\": 0"), std::string::npos) << stats.body;
}

TEST(RobustnessE2E, BinaryFramesAreIgnored) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");
    alice.send_binary(std::string("\x00\x01\x02\xff", 4));
    alice.send_binary(R"({"action":"message","channel":"lobby","message":"binary"})");
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{});
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});
    expect_chat_works(alice, bob, "after binary");
}

TEST(RobustnessE2E, UnknownActionGetsExactReply) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");
    alice.send_text(R"({"action":"typing","channel":"lobby"})");
    EXPECT_EQ(alice.recv(), chat_server("Unsupported message type: typing"));
    alice.send_text(R"({"channel":"lobby","message":"no action"})");
    EXPECT_EQ(alice.recv(), chat_server("Unsupported message type: "));
    alice.send_text(R"({"action":"<b>x</b>"})");
    EXPECT_EQ(alice.recv(), chat_server("Unsupported message type: <b>x</b>"));
    // Also before login.
    WsClient carol(server.port());
    carol.send_text(R"({"action":"file-upload"})");
    EXPECT_EQ(carol.recv(), chat_server("Unsupported message type: file-upload"));
    // A client ping gets no answer.
    alice.send_text(R"({"action":"ping"})");
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{});
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});
    expect_chat_works(alice, bob, "after unknown");
}

// A message frame of exactly `size` bytes.
std::string message_frame(std::size_t size, std::string& text) {
    const std::string head = R"({"action":"message","channel":"lobby","message":")";
    const std::string tail = R"("})";
    text.assign(size - head.size() - tail.size(), 'x');
    return head + text + tail;
}

TEST(RobustnessE2E, OversizedFrameClosesWith1009) {
    ServerConfig config;
    config.websocket_read_limit = 4096;
    Server server(config);
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    // Exactly at the limit: accepted.
    std::string text;
    alice.send_text(message_frame(4096, text));
    const auto m = bob.recv_action("message");
    ASSERT_TRUE(m);
    EXPECT_EQ(str(*m, "message"), "<p>" + text + "</p>");
    alice.sync();

    // One byte over: the connection is closed with 1009 (message too big).
    alice.send_text(message_frame(4097, text));
    EXPECT_EQ(alice.wait_closed(), 1009u);
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{}) << "the oversized message was delivered";

    // The others are unaffected, the name is free again, and new connections work.
    WsClient carol(server.port());
    carol.login("carol");
    expect_chat_works(bob, carol, "after 1009");
    WsClient alice_again(server.port());
    alice_again.login("alice");
    EXPECT_EQ(alice_again.username(), "alice");

    // Fragments are reassembled and the limit applies to the whole message.
    WsClient dave(server.port());
    dave.login("dave");
    dave.send_fragments(
        {R"({"action":"message",)", R"("channel":"lobby",)", R"("message":"in pieces"})"});
    const auto pieces = carol.recv_action("message");
    ASSERT_TRUE(pieces);
    EXPECT_EQ(str(*pieces, "message"), "<p>in pieces</p>");
    std::string big = message_frame(4500, text);
    dave.send_fragments({big.substr(0, 2000), big.substr(2000, 2000), big.substr(4000)});
    EXPECT_EQ(dave.wait_closed(), 1009u) << dave.end_reason();
    EXPECT_EQ(carol.sync(), std::vector<bj::object>{});
    expect_chat_works(bob, carol, "after fragments");
}

// A client still sending an oversized message gets the 1009 close frame, not a reset: the
// server stops at the limit, sends the close frame and discards the rest until the client's
// close frame (before, Beast closed the socket with unread input and the kernel's RST usually
// destroyed the close frame).
TEST(RobustnessE2E, OversizedMessageStillBeingSentGets1009) {
    ServerConfig config;
    config.websocket_read_limit = 4096;
    Server server(config);
    WsClient alice(server.port());
    alice.login("alice");
    std::string big = R"({"action":"message","channel":"lobby","message":")";
    big += std::string(4000, 'x');
    std::vector<std::string> parts{big};
    for (int i = 0; i < 40; ++i) parts.push_back(std::string(4000, 'y'));
    parts.push_back(R"("})");
    alice.send_fragments(parts);
    EXPECT_EQ(alice.wait_closed(), 1009u) << alice.end_reason();
}

TEST(RobustnessE2E, GarbageHttpGets400AndServerStaysUp) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    const std::vector<std::string> garbage_requests{
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "garbage\r\n\r\n",
        "GARBAGE\r\n\r\n",
        "GET / HTTP/9.9 extra\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    };
    for (const std::string& garbage : garbage_requests) {
        const std::string reply = raw_exchange(server.port(), garbage);
        EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
    }
    // A client that connects and sends nothing, or half a request, does not hurt anyone.
    raw_exchange(server.port(), "", 200ms);
    raw_exchange(server.port(), "GET / HTTP/1.1\r\nHost: 127", 200ms);

    EXPECT_EQ(http_get(server.port(), "/api/statistics").status, 200u);
    expect_chat_works(alice, bob, "after garbage");
}

TEST(RobustnessE2E, HugeHeaderGets431) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");
    const std::string request = "GET /api/statistics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
                                std::string(200 * 1024, 'a') + "\r\n\r\n";
    const std::string reply = raw_exchange(server.port(), request);
    EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply.substr(0, 200);
    EXPECT_EQ(http_get(server.port(), "/api/statistics").status, 200u);
    expect_chat_works(alice, bob, "after huge header");
}

TEST(RobustnessE2E, UnknownPathsServeTheChatPage) {
    Server server;
    for (const std::string& path :
         std::vector<std::string>{"/", "/nope/page", "/api/foo", "/favicon.ico", "/?x=1"}) {
        const auto res = http_get(server.port(), path);
        EXPECT_EQ(res.status, 200u) << path;
        EXPECT_EQ(res.header("Content-Type").value_or(""), "text/html; charset=utf-8") << path;
        EXPECT_NE(res.body.find("<title>BareRTC e2e</title>"), std::string::npos) << path;
        EXPECT_NE(res.body.find("const PublicChannels = "), std::string::npos) << path;
    }
    // Any method gets the page.
    EXPECT_EQ(http_request(server.port(), verb::post, "/somewhere", "x=1",
                           {{"Content-Type", "application/x-www-form-urlencoded"}})
                  .status,
              200u);
}

TEST(RobustnessE2E, WsWithoutUpgradeIsRefused) {
    Server server;
    const std::string prefix = "Could not accept websocket connection: ";
    const auto get = http_get(server.port(), "/ws");
    EXPECT_EQ(get.status, 426u);
    EXPECT_EQ(get.body.rfind(prefix, 0), 0u) << get.body;
    const auto post = http_request(server.port(), verb::post, "/ws", "{}",
                                   {{"Content-Type", "application/json"}});
    EXPECT_EQ(post.status, 405u);
    EXPECT_EQ(post.body.rfind(prefix, 0), 0u) << post.body;
    // The server is still fine.
    WsClient alice(server.port());
    EXPECT_EQ(alice.login("alice").front(), (bj::object{{"action", "me"}, {"username", "alice"}}));
}

TEST(RobustnessE2E, WebSocketOriginMustMatchHost) {
    Server server;
    const std::string host = "127.0.0.1:" + std::to_string(server.port());
    for (const std::string& origin :
         std::vector<std::string>{"https://evil.example", "http://127.0.0.1:1",
                                  "http://localhost:" + std::to_string(server.port())}) {
        const auto refusal = WsClient::try_refused(server.port(), {{"Origin", origin}});
        ASSERT_TRUE(refusal) << "origin " << origin << " was accepted";
        EXPECT_EQ(refusal->status, 403u);
        EXPECT_NE(refusal->body.find("request Origin \"" + origin +
                                     "\" is not authorized for Host \"" + host + "\""),
                  std::string::npos)
            << refusal->body;
    }
    // Same host (any scheme, case-insensitive) or no Origin: accepted.
    for (const std::string& origin :
         std::vector<std::string>{"http://" + host, "https://" + host, "HTTP://" + host}) {
        EXPECT_FALSE(WsClient::try_refused(server.port(), {{"Origin", origin}})) << origin;
    }
    WsClient no_origin(server.port());
    EXPECT_FALSE(no_origin.login("alice").empty());
}

TEST(RobustnessE2E, BadTokensAreRejectedAtLoginInEveryMode) {
    for (const bool jwt_enabled : {false, true}) {
        SCOPED_TRACE(jwt_enabled ? "JWT enabled, not strict" : "JWT disabled");
        ServerConfig config;
        config.jwt_enabled = jwt_enabled;
        config.jwt_strict = false;
        Server server(config);
        WsClient bob(server.port());
        bob.login("bob");

        const std::int64_t now = unix_now();
        const std::vector<std::string> bad{
            "not-a-token",
            "a.b.c",
            user_jwt("alice", "wrong-secret"),
            make_jwt({{"sub", "alice"}, {"exp", now - 60}}),
            make_jwt({{"sub", "alice"}, {"nbf", now + 3600}}),
            make_jwt({{"sub", "alice"}, {"iat", now + 3600}}),
            make_jwt({{"sub", "alice"}, {"op", "yes"}}),
            make_jwt({{"sub", "alice"}}, kSecret, "none"),
        };
        WsClient alice(server.port());
        for (const auto& token : bad) {
            SCOPED_TRACE(token);
            alice.send({{"action", "login"}, {"username", "alice"}, {"jwt", token}});
            EXPECT_EQ(alice.recv(), chat_server(kAuthExpired));
            EXPECT_EQ(alice.sync(), std::vector<bj::object>{});
        }
        // Still connected, not logged in.
        EXPECT_FALSE(alice.ended());
        alice.say("lobby", "let me in");
        EXPECT_EQ(alice.recv(), chat_server(kMustLogIn));
        EXPECT_EQ(bob.sync(), std::vector<bj::object>{});

        // HS384/HS512 tokens and tokens without exp are fine.
        const auto burst =
            alice.login("x", make_jwt({{"sub", "alice"}, {"exp", now + 60}}, kSecret, "HS512"));
        ASSERT_FALSE(burst.empty());
        EXPECT_EQ(burst.front(), (bj::object{{"action", "me"}, {"username", "alice"}}));
        WsClient carol(server.port());
        EXPECT_EQ(carol.login("x", make_jwt({{"sub", "carol"}}, kSecret, "HS384")).front(),
                  (bj::object{{"action", "me"}, {"username", "carol"}}));
        expect_chat_works(alice, bob, "tokens ok");

        // A bad token on the page is a 403 in every mode.
        const auto page = http_get(server.port(), "/?jwt=not-a-token");
        EXPECT_EQ(page.status, 403u);
        EXPECT_EQ(page.body.rfind("Error parsing your JWT token: ", 0), 0u) << page.body;
    }
}

TEST(RobustnessE2E, StrictModeRequiresAToken) {
    ServerConfig config;
    config.jwt_enabled = true;
    config.jwt_strict = true;
    Server server(config);
    WsClient guest(server.port());
    guest.send({{"action", "login"}, {"username", "guest"}});
    EXPECT_EQ(guest.recv(), chat_server(kAuthRequired));
    guest.send({{"action", "login"}, {"username", "guest"}, {"jwt", ""}});
    EXPECT_EQ(guest.recv(), chat_server(kAuthRequired));
    EXPECT_EQ(guest.sync(), std::vector<bj::object>{});
    EXPECT_FALSE(guest.ended());
    guest.say("lobby", "hello?");
    EXPECT_EQ(guest.recv(), chat_server(kMustLogIn));

    // With a valid token the same connection gets in.
    const auto burst = guest.login("guest", user_jwt("member"));
    ASSERT_FALSE(burst.empty());
    EXPECT_EQ(burst.front(), (bj::object{{"action", "me"}, {"username", "member"}}));

    // The page: no token → 403 text; a valid token → the page.
    const auto page = http_get(server.port(), "/");
    EXPECT_EQ(page.status, 403u);
    EXPECT_EQ(page.body, "Authentication denied. Please go back and try again.");
    EXPECT_EQ(http_get(server.port(), "/?jwt=" + user_jwt("member")).status, 200u);
}

TEST(RobustnessE2E, StrictModeRedirectsToLandingPage) {
    ServerConfig config;
    config.jwt_enabled = true;
    config.jwt_strict = true;
    config.landing_page_url = "https://www.example.com/enter-chat";
    Server server(config);
    const auto page = http_get(server.port(), "/");
    EXPECT_EQ(page.status, 302u);
    EXPECT_EQ(page.header("Location").value_or(""), "https://www.example.com/enter-chat");
    EXPECT_EQ(page.body, "");
    // A bad token is still a 403, not a redirect.
    EXPECT_EQ(http_get(server.port(), "/?jwt=bad").status, 403u);
}

TEST(RobustnessE2E, SigtermNotifiesUsersAndExitsCleanly) {
    Server server;
    WsClient alice(server.port());
    alice.login("alice");
    alice.sync();
    const auto start = Clock::now();
    std::thread stopper([&] { EXPECT_EQ(server.stop(), 0) << "exit status after SIGTERM"; });
    // decisions.md §4: a ChatServer notice, then close 1001 (going away).
    EXPECT_EQ(alice.recv(),
              chat_server("The chat server is restarting, you will be reconnected shortly."));
    EXPECT_EQ(alice.wait_closed(5s), 1001u);
    stopper.join();
    EXPECT_LT(Clock::now() - start, 10s);
}

}  // namespace
}  // namespace e2e
