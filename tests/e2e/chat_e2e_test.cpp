// End-to-end tests of chatting over /ws: login burst, public messages, DMs, name collisions
// and HTML escaping (protocol.md §5.1, §5.2, §7, §8, §13, §21).

#include "harness.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace e2e {
namespace {

bj::object message(std::string_view channel, std::string_view from, std::string_view html,
                   std::int64_t id) {
    return {{"action", "message"},
            {"channel", channel},
            {"username", from},
            {"message", html},
            {"msgID", id}};
}

// The four welcome notices of the default channels, in config order (protocol.md §7 step 5).
void expect_welcomes(const std::vector<bj::object>& got) {
    ASSERT_EQ(got.size(), 4u) << dump(got);
    EXPECT_EQ(got[0], chat_server("<p>" + std::string(kWelcomeLobby1) + "</p>", "lobby"));
    // The second lobby text is a Markdown list (features.md §2).
    EXPECT_EQ(got[1], chat_server("<p>" + std::string(kWelcomeLobby2Start) +
                                      "</p>\n<ol>\n<li>Have fun</li>\n<li>Be kind</li>\n</ol>",
                                  "lobby"));
    EXPECT_EQ(got[2], chat_server("<p>" + std::string(kWelcomeOfftopic) + "</p>", "offtopic"));
    EXPECT_EQ(got[3], chat_server("<p>" + std::string(kWelcomeVip) + "</p>", "vip"));
}

TEST(ChatE2E, LoginBurstIsMeEchoThenWelcomes) {
    Server server;
    WsClient alice(server.port());
    // During the reboot grace there is no who list and no presence (protocol.md §19), so the
    // burst is exactly: me, echo (without messages), one notice per welcome message.
    const auto burst = alice.login("alice");
    ASSERT_EQ(burst.size(), 6u) << dump(burst);
    EXPECT_EQ(burst[0], (bj::object{{"action", "me"}, {"username", "alice"}}));
    EXPECT_EQ(burst[1], (bj::object{{"action", "echo"}}));
    expect_welcomes({burst.begin() + 2, burst.end()});
}

TEST(ChatE2E, EmptyUsernameBecomesAnonymous) {
    Server server;
    WsClient ws(server.port());
    const auto burst = ws.login("");
    ASSERT_FALSE(burst.empty());
    EXPECT_EQ(burst.front(), (bj::object{{"action", "me"}, {"username", "anonymous"}}));
}

TEST(ChatE2E, EchoReplaysRecentLobbyMessages) {
    Server server;
    WsClient alice(server.port());
    alice.login("alice");
    // Eleven lobby messages (the lobby keeps 10), one in offtopic (keeps none), one DM.
    std::vector<bj::object> sent;
    for (int i = 1; i <= 11; ++i) {
        alice.say("lobby", "lobby " + std::to_string(i));
        auto m = alice.recv_action("message");
        ASSERT_TRUE(m);
        sent.push_back(*m);
    }
    alice.say("offtopic", "not echoed");
    ASSERT_TRUE(alice.recv_action("message"));
    alice.say("@alice", "note to self");
    alice.sync();

    WsClient bob(server.port());
    const auto burst = bob.login("bob");
    ASSERT_GE(burst.size(), 2u) << dump(burst);
    EXPECT_EQ(burst[0], (bj::object{{"action", "me"}, {"username", "bob"}}));
    ASSERT_TRUE(is_action(burst[1], "echo")) << dump(burst);
    ASSERT_EQ(burst[1].size(), 2u) << burst[1];
    const auto& messages = burst[1].at("messages").as_array();
    ASSERT_EQ(messages.size(), 10u) << burst[1];
    const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d))");
    for (std::size_t i = 0; i < messages.size(); ++i) {
        bj::object m = messages[i].as_object();
        const std::string ts = str(m, "timestamp");
        EXPECT_TRUE(std::regex_match(ts, rfc3339)) << ts;
        m.erase("timestamp");
        EXPECT_EQ(m, sent[i + 1]) << "echo entry " << i;
    }
    expect_welcomes({burst.begin() + 2, burst.end()});
}

TEST(ChatE2E, PublicMessageReachesEveryoneWithConsecutiveIds) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    WsClient carol(server.port());
    alice.login("alice");
    bob.login("bob");
    carol.login("carol");

    alice.say("lobby", "Hello everyone");
    const auto got = alice.recv_action("message");
    ASSERT_TRUE(got);
    const std::int64_t id = num(*got, "msgID");
    // Ids start at the server's start time in Unix seconds, plus one (protocol.md §12).
    EXPECT_GE(id, server.started_unix_min() + 1);
    EXPECT_LE(id, server.started_unix_max() + 1);
    const bj::object expected = message("lobby", "alice", "<p>Hello everyone</p>", id);
    EXPECT_EQ(*got, expected);
    EXPECT_EQ(bob.recv(), expected);
    // On the wire, as Go encodes it: '<', '>' and '&' escaped (README conventions).
    const auto raw = carol.recv_raw();
    ASSERT_TRUE(raw);
    EXPECT_EQ(parse_object(*raw), expected);
    EXPECT_NE(raw->find(R"("message":"\u003cp\u003eHello everyone\u003c/p\u003e")"),
              std::string::npos)
        << *raw;
    EXPECT_EQ(raw->find_first_of("<>&\n"), std::string::npos) << *raw;

    // Any channel name is accepted, and the sender gets its copy too.
    bob.say("no-such-channel", "a & b < c");
    const bj::object second = message("no-such-channel", "bob", "<p>a &amp; b &lt; c</p>", id + 1);
    const auto raw_second = alice.recv_raw();
    ASSERT_TRUE(raw_second);
    EXPECT_EQ(parse_object(*raw_second), second);
    EXPECT_NE(raw_second->find(R"(\u003cp\u003ea \u0026amp; b \u0026lt; c\u003c/p\u003e)"),
              std::string::npos)
        << *raw_second;
    EXPECT_EQ(bob.recv(), second);
    EXPECT_EQ(carol.recv(), second);

    // Whitespace-only messages are dropped silently and use no id.
    carol.say("lobby", "  \n\t ");
    EXPECT_EQ(carol.sync(), std::vector<bj::object>{});
    carol.say("lobby", "third");
    EXPECT_EQ(carol.recv(), message("lobby", "carol", "<p>third</p>", id + 2));

    for (auto* c : {&alice, &bob, &carol}) {
        const auto rest = c->sync();
        // alice and bob still have carol's third message queued.
        if (c != &carol) {
            ASSERT_EQ(rest.size(), 1u) << dump(rest);
            EXPECT_EQ(rest[0], message("lobby", "carol", "<p>third</p>", id + 2));
        } else {
            EXPECT_EQ(rest, std::vector<bj::object>{});
        }
    }
}

TEST(ChatE2E, DirectMessagesGoToRecipientAndEchoToSender) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    WsClient carol(server.port());
    alice.login("alice");
    bob.login("bob");
    carol.login("carol");

    alice.say("@bob", "psst");
    const auto echo = alice.recv();
    ASSERT_TRUE(echo);
    const std::int64_t id = num(*echo, "msgID");
    EXPECT_EQ(*echo, message("@bob", "alice", "<p>psst</p>", id));
    EXPECT_EQ(bob.recv(), message("@alice", "alice", "<p>psst</p>", id));
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{});
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});
    EXPECT_EQ(carol.sync(), std::vector<bj::object>{}) << "carol must not see the DM";

    bob.say("@alice", "hi back");
    EXPECT_EQ(bob.recv(), message("@alice", "bob", "<p>hi back</p>", id + 1));
    EXPECT_EQ(alice.recv(), message("@bob", "bob", "<p>hi back</p>", id + 1));

    // Offline recipient: echo first, then the notice.
    alice.say("@nobody", "are you there?");
    EXPECT_EQ(alice.recv(), message("@nobody", "alice", "<p>are you there?</p>", id + 2));
    EXPECT_EQ(alice.recv(),
              chat_server("Could not deliver your message: @nobody appears not to be online."));
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{});

    // A DM to oneself is delivered twice (protocol.md §13).
    carol.say("@carol", "memo");
    EXPECT_EQ(carol.recv(), message("@carol", "carol", "<p>memo</p>", id + 3));
    EXPECT_EQ(carol.recv(), message("@carol", "carol", "<p>memo</p>", id + 3));
    EXPECT_EQ(carol.sync(), std::vector<bj::object>{});
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});
}

TEST(ChatE2E, MessageBeforeLoginIsRefused) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.say("lobby", "anyone?");
    EXPECT_EQ(bob.recv(), chat_server(kMustLogIn));
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{});
}

TEST(ChatE2E, GuestNameCollisionsAreRenamed) {
    Server server;
    WsClient first(server.port());
    WsClient second(server.port());
    WsClient third(server.port());
    first.login("alice");
    EXPECT_EQ(first.username(), "alice");
    const auto burst = second.login("alice");
    ASSERT_FALSE(burst.empty());
    EXPECT_EQ(burst.front(), (bj::object{{"action", "me"}, {"username", "alice 2"}}));
    third.login("alice");
    EXPECT_EQ(third.username(), "alice 3");

    // Names are case-sensitive: "Alice" is free.
    WsClient fourth(server.port());
    fourth.login("Alice");
    EXPECT_EQ(fourth.username(), "Alice");

    // The renamed user posts under the new name, and nobody was signed out.
    second.say("lobby", "hi");
    const auto m = first.recv_action("message");
    ASSERT_TRUE(m);
    EXPECT_EQ(str(*m, "username"), "alice 2");
    EXPECT_EQ(first.sync(), std::vector<bj::object>{});
}

TEST(ChatE2E, SameJwtUserSignsOutTheOlderSession) {
    ServerConfig config;
    config.jwt_enabled = true;
    config.jwt_strict = false;
    Server server(config);
    WsClient older(server.port());
    WsClient newer(server.port());
    WsClient bystander(server.port());
    bystander.login("bystander");
    older.login("ignored", user_jwt("alice"));
    EXPECT_EQ(older.username(), "alice");

    const auto burst = newer.login("ignored too", user_jwt("alice"));
    ASSERT_FALSE(burst.empty());
    EXPECT_EQ(burst.front(), (bj::object{{"action", "me"}, {"username", "alice"}}));

    EXPECT_EQ(older.recv(), chat_server(kSignedOutElsewhere));
    EXPECT_EQ(older.recv(), (bj::object{{"action", "disconnect"}}));
    EXPECT_EQ(older.sync(), std::vector<bj::object>{});
    // The server leaves the socket open but the session is signed out.
    EXPECT_FALSE(older.ended());
    older.say("lobby", "still here?");
    EXPECT_EQ(older.recv(), chat_server(kMustLogIn));

    // The new session owns the name: messages from it and to it work.
    newer.say("lobby", "I moved");
    auto m = bystander.recv_action("message");
    ASSERT_TRUE(m);
    EXPECT_EQ(str(*m, "username"), "alice");
    bystander.say("@alice", "welcome back");
    m = newer.recv_until([](const bj::object& x) { return str(x, "channel") == "@bystander"; });
    ASSERT_TRUE(m);
    EXPECT_EQ(str(*m, "channel"), "@bystander");
    EXPECT_EQ(older.sync(), std::vector<bj::object>{});

    // A guest holding a name is signed out the same way by a token for that name.
    WsClient guest(server.port());
    guest.login("erin");
    EXPECT_EQ(guest.username(), "erin");
    WsClient erin(server.port());
    erin.login("", user_jwt("erin"));
    EXPECT_EQ(erin.username(), "erin");
    EXPECT_EQ(guest.recv(), chat_server(kSignedOutElsewhere));
    EXPECT_EQ(guest.recv(), (bj::object{{"action", "disconnect"}}));
}

// Returns true if `html` contains an element or attribute that could run script or restyle
// the page (features.md §2: no script/style/iframe/svg, no event handlers, no style or class
// attributes, no javascript:/data: URLs).
bool has_active_html(const std::string& html) {
    static const std::regex bad(R"(<\s*(script|iframe|style|object|embed|svg|math|form)\b)"
                                R"(|<[^>]*\s(on\w+|style|class)\s*=)"
                                R"(|<[^>]*\s(href|src)\s*=\s*["']?\s*(javascript|data|vbscript):)",
                                std::regex::icase);
    return std::regex_search(html, bad);
}

TEST(ChatE2E, HtmlInMessagesIsNeutralised) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    // Only disallowed HTML: the message is dropped for everybody and uses no id
    // (protocol.md §5.2 step 3, features.md §2).
    alice.say("lobby", "before");
    const auto before = bob.recv_action("message");
    ASSERT_TRUE(before);
    alice.say("lobby", "<script>alert(1)</script>");
    const std::vector<bj::object> only_before{
        message("lobby", "alice", "<p>before</p>", num(*before, "msgID"))};
    EXPECT_EQ(alice.sync(), only_before);
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});
    alice.say("lobby", "after");
    const auto after = bob.recv_action("message");
    ASSERT_TRUE(after);
    EXPECT_EQ(num(*after, "msgID"), num(*before, "msgID") + 1);

    // Exact outputs given by the spec.
    alice.say("lobby", "<b onclick=\"x()\">hi</b>");
    auto m = bob.recv_action("message");
    ASSERT_TRUE(m);
    EXPECT_EQ(str(*m, "message"), "<p><b>hi</b></p>");

    // Whatever else the sanitiser keeps, nothing that can run script may arrive.
    const std::vector<std::string> attacks{
        "<img src=x onerror=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "\"><svg/onload=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "[x](javascript:alert(1))",
        "<style>body{display:none}</style>hidden",
        "<div style=\"position:fixed\" class=\"modal\">x</div>",
        "<img src=\"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=\">",
    };
    for (const auto& text : attacks) alice.say("lobby", text);
    alice.say("lobby", "done");
    std::vector<bj::object> got;
    ASSERT_TRUE(bob.recv_until(
        [](const bj::object& x) { return str(x, "message") == "<p>done</p>"; }, 3s, &got));
    for (const auto& x : got) {
        EXPECT_TRUE(is_action(x, "message")) << x;
        EXPECT_FALSE(has_active_html(str(x, "message"))) << x;
    }
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});

    // DMs carry the same protection.
    alice.say("@bob", "<script>alert(2)</script><img src=x onerror=alert(2)>");
    alice.sync();
    for (const auto& dm : bob.sync()) {
        EXPECT_EQ(str(dm, "channel"), "@alice");
        EXPECT_FALSE(has_active_html(str(dm, "message"))) << dm;
    }

    // Names are not validated (protocol.md §8); they travel as plain JSON strings.
    WsClient mallory(server.port());
    mallory.login("<img src=x onerror=alert(3)>");
    EXPECT_EQ(mallory.username(), "<img src=x onerror=alert(3)>");
}

// Markdown rendering and sanitising: the examples of features.md §2.
TEST(ChatE2E, MarkdownIsRenderedAndSanitised) {
    Server server;
    WsClient alice(server.port());
    alice.login("alice");
    const std::vector<std::pair<std::string, std::string>> cases{
        {"hello", "<p>hello</p>"},
        {"**b** _i_ ~~s~~ `c`", "<p><strong>b</strong> <em>i</em> <del>s</del> <code>c</code></p>"},
        {"https://example.com/x",
         "<p><a href=\"https://example.com/x\" rel=\"nofollow\">https://example.com/x</a></p>"},
        {"a < b & c", "<p>a &lt; b &amp; c</p>"},
        {"line1\nline2", "<p>line1\nline2</p>"},
        {"<b onclick=\"x()\">hi</b>", "<p><b>hi</b></p>"},
        {"- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"},
    };
    for (const auto& [in, out] : cases) {
        alice.say("lobby", in);
        const auto m = alice.recv_action("message");
        ASSERT_TRUE(m) << in;
        EXPECT_EQ(str(*m, "message"), out) << in;
    }
    // Only disallowed HTML: the message is dropped.
    alice.say("lobby", "<script>alert(1)</script>");
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{});
}

}  // namespace
}  // namespace e2e
