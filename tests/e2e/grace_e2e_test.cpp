// The reboot grace (protocol.md §19), Who lists (§10), presence (§6) and server pings (§16).
// This is the one slow test: it waits for the 15 s Who-list grace and the 30 s presence grace
// of a freshly started server.

#include "harness.hpp"

#include <gtest/gtest.h>

namespace e2e {
namespace {

bj::object who_entry(std::string_view name, std::int64_t login_at,
                     std::string_view status = "online", std::int64_t video = 0) {
    return {{"username", name},
            {"status", status},
            {"video", video},
            {"loginAt", login_at},
            {"op", false}};
}

bj::object who(const std::vector<bj::object>& entries) {
    bj::array list;
    for (const auto& e : entries) list.emplace_back(e);
    return {{"action", "who"}, {"whoList", std::move(list)}};
}

bj::object presence(std::string_view name, std::string_view text) {
    return {{"action", "presence"}, {"username", name}, {"message", text}};
}

void sleep_until(Clock::time_point t) {
    const auto now = Clock::now();
    if (t > now) std::this_thread::sleep_for(t - now);
}

TEST(GraceE2E, WhoListsAfter16sPresenceAfter30sAndPings) {
    ServerConfig config;
    config.jwt_enabled = true;
    config.jwt_strict = false;
    Server server(config);
    const auto t0 = server.started();

    // Two users log in during the grace: no who lists, no presence for anyone.
    WsClient alice(server.port());
    const std::int64_t before_login = unix_now();
    const auto alice_burst = alice.login("typed", user_jwt("alice"));
    WsClient bob(server.port());
    const auto bob_burst = bob.login("bob");
    const std::int64_t after_login = unix_now();
    EXPECT_TRUE(with_action(alice_burst, "who").empty()) << dump(alice_burst);
    EXPECT_TRUE(with_action(alice_burst, "presence").empty()) << dump(alice_burst);
    EXPECT_TRUE(with_action(bob_burst, "who").empty()) << dump(bob_burst);
    EXPECT_TRUE(with_action(bob_burst, "presence").empty()) << dump(bob_burst);
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{}) << "no presence for bob during the grace";
    // A change during the first 15 s sends no who list either.
    bob.send({{"action", "me"}, {"video", 0}, {"status", "online"}});
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});
    ASSERT_LT(Clock::now() - t0, 14s) << "too slow to test the grace";

    // At 16 s everyone gets one full who list, sorted by name.
    auto alice_who = alice.recv_action("who", 20s);
    ASSERT_TRUE(alice_who) << "no who list after the grace";
    EXPECT_GE(Clock::now() - t0, 14500ms) << "who list during the grace";
    ASSERT_EQ(alice_who->at("whoList").as_array().size(), 2u) << *alice_who;
    const std::int64_t alice_login =
        num(alice_who->at("whoList").as_array()[0].as_object(), "loginAt");
    const std::int64_t bob_login =
        num(alice_who->at("whoList").as_array()[1].as_object(), "loginAt");
    EXPECT_GE(alice_login, before_login);
    EXPECT_LE(bob_login, after_login);
    const bj::object expected = who({who_entry("alice", alice_login), who_entry("bob", bob_login)});
    EXPECT_EQ(*alice_who, expected);
    EXPECT_EQ(bob.recv_action("who", 3s), expected);
    EXPECT_EQ(alice.sync(), std::vector<bj::object>{}) << "only one who list expected";

    // After the grace a change sends who lists to everyone at once (no presence yet).
    bob.send({{"action", "me"}, {"video", 1}, {"status", "away"}});
    const bj::object after_me =
        who({who_entry("alice", alice_login), who_entry("bob", bob_login, "away", 1)});
    EXPECT_EQ(alice.recv(), after_me);
    EXPECT_EQ(bob.recv(), after_me);

    // Pings arrive 30 s after each connection opened: with a fresh token for the JWT user.
    auto ping = alice.recv_action("ping", 20s);
    ASSERT_TRUE(ping);
    EXPECT_GE(Clock::now() - t0, 29s);
    const std::string token = str(*ping, "jwt");
    EXPECT_TRUE(jwt_signature_ok(token)) << token;
    const bj::object payload = jwt_payload(token);
    EXPECT_EQ(str(payload, "sub"), "alice");
    EXPECT_EQ(num(payload, "exp"), num(payload, "iat") + 300);
    EXPECT_EQ(ping->at("jwtRules"), (bj::object{{"IsNoBroadcastRule", false},
                                                {"IsNoDarkVideoRule", false},
                                                {"IsNoImageRule", false},
                                                {"IsNoVideoRule", false},
                                                {"IsRedCamRule", false}}));
    EXPECT_EQ(ping->size(), 3u) << *ping;
    EXPECT_EQ(bob.recv_action("ping", 5s), (bj::object{{"action", "ping"}}));

    // After 30 s joins and exits are announced.
    sleep_until(t0 + 30500ms);
    WsClient carol(server.port());
    carol.send({{"action", "login"}, {"username", "carol"}});
    const bj::object joined = presence("carol", "has joined the room!");
    std::vector<bj::object> carol_burst;
    ASSERT_TRUE(
        carol.recv_until([&](const bj::object& m) { return m == joined; }, 3s, &carol_burst))
        << "carol gets her own presence; before it: " << dump(carol_burst);
    ASSERT_FALSE(carol_burst.empty());
    EXPECT_EQ(carol_burst.front(), (bj::object{{"action", "me"}, {"username", "carol"}}));
    EXPECT_EQ(with_action(carol_burst, "echo").size(), 1u) << dump(carol_burst);
    EXPECT_EQ(alice.recv_action("presence"), joined);
    EXPECT_EQ(bob.recv_action("presence"), joined);
    auto three = alice.recv_action("who");
    ASSERT_TRUE(three);
    ASSERT_EQ(three->at("whoList").as_array().size(), 3u) << *three;
    EXPECT_EQ(str(three->at("whoList").as_array()[2].as_object(), "username"), "carol");
    // carol gets a who list too (the spec puts it before the echo; it may come later here).
    EXPECT_TRUE(carol.recv_action("who"));

    // carol leaves: the others see the exit and a who list without her.
    carol.close();
    EXPECT_EQ(alice.recv_action("presence"), presence("carol", "has exited the room!"));
    EXPECT_EQ(bob.recv_action("presence"), presence("carol", "has exited the room!"));
    EXPECT_EQ(alice.recv_action("who"),
              who({who_entry("alice", alice_login), who_entry("bob", bob_login, "away", 1)}));
}

}  // namespace
}  // namespace e2e
