// End-to-end tests of the HTTP JSON API (api.md §1, §2, §4, §5, §8).

#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>

namespace e2e {
namespace {

using boost::beast::http::verb;

std::string authenticate_body(std::string_view claims_json, std::string_view key = kApiKey) {
    return "{\"APIKey\": \"" + std::string(key) + "\", \"Claims\": " + std::string(claims_json) +
           "}";
}

ServerConfig mixed_jwt() {
    ServerConfig c;
    c.jwt_enabled = true;
    c.jwt_strict = false;
    return c;
}

constexpr std::string_view kEmptyStatistics =
    "{\n"
    "  \"UserCount\": 0,\n"
    "  \"Usernames\": [],\n"
    "  \"Cameras\": {\n"
    "    \"Blue\": 0,\n"
    "    \"Red\": 0\n"
    "  }\n"
    "}\n";

std::string two_user_statistics(std::string_view first, std::string_view second) {
    std::string body = "{\n  \"UserCount\": 2,\n  \"Usernames\": [\n";
    body += "    \"" + std::string(first) + "\",\n";
    body += "    \"" + std::string(second) + "\"\n";
    body += "  ],\n  \"Cameras\": {\n    \"Blue\": 1,\n    \"Red\": 1\n  }\n}\n";
    return body;
}

TEST(ApiE2E, StatisticsWithNoUsersIsExact) {
    Server server;
    for (verb method : {verb::get, verb::post, verb::options}) {
        const auto res = http_request(server.port(), method, "/api/statistics");
        EXPECT_EQ(res.status, 200u) << method;
        EXPECT_EQ(res.header("Content-Type").value_or(""), "application/json");
        EXPECT_EQ(res.body, kEmptyStatistics) << method;
        EXPECT_FALSE(res.header("Access-Control-Allow-Origin")) << "no Origin was sent";
    }
}

TEST(ApiE2E, StatisticsCountsLoggedInUsersAndCameras) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    WsClient lurker(server.port());  // connected but never logged in: not counted
    alice.login("alice");
    bob.login("bob");
    // Blue camera for alice (Active), red for bob (Active + NSFW).
    alice.send({{"action", "me"}, {"video", 1}, {"status", "online"}});
    bob.send({{"action", "me"}, {"video", 3}, {"status", "online"}});
    alice.sync();
    bob.sync();
    lurker.sync();

    const auto res = http_get(server.port(), "/api/statistics");
    EXPECT_EQ(res.status, 200u);
    // Usernames come in unspecified order (api.md §4).
    EXPECT_TRUE(res.body == two_user_statistics("alice", "bob") ||
                res.body == two_user_statistics("bob", "alice"))
        << res.body;

    // A user who leaves is no longer counted.
    bob.close();
    const auto deadline = Clock::now() + 3s;
    std::string body;
    while (Clock::now() < deadline) {
        body = http_get(server.port(), "/api/statistics").body;
        if (body.find("\"UserCount\": 1") != std::string::npos) break;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(body,
              "{\n  \"UserCount\": 1,\n  \"Usernames\": [\n    \"alice\"\n  ],\n"
              "  \"Cameras\": {\n    \"Blue\": 1,\n    \"Red\": 0\n  }\n}\n");
}

TEST(ApiE2E, StatisticsEncodesLikeGo) {
    Server server;
    WsClient ws(server.port());
    ws.login("<b>&co");
    const auto res = http_get(server.port(), "/api/statistics");
    EXPECT_EQ(res.body,
              "{\n  \"UserCount\": 1,\n  \"Usernames\": [\n    \"\\u003cb\\u003e\\u0026co\"\n"
              "  ],\n  \"Cameras\": {\n    \"Blue\": 0,\n    \"Red\": 0\n  }\n}\n");
}

TEST(ApiE2E, StatisticsCorsOnlyForExactConfiguredOrigin) {
    ServerConfig config;
    config.cors_hosts = {"https://www.example.com", "http://localhost:8080"};
    Server server(config);

    for (const std::string& origin :
         std::vector<std::string>{"https://www.example.com", "http://localhost:8080"}) {
        for (verb method : {verb::get, verb::options}) {
            const auto res =
                http_request(server.port(), method, "/api/statistics", {}, {{"Origin", origin}});
            EXPECT_EQ(res.status, 200u);
            EXPECT_EQ(res.header("Access-Control-Allow-Origin").value_or("<none>"), origin);
            EXPECT_EQ(res.body, kEmptyStatistics);
            // No other CORS headers are ever sent.
            EXPECT_FALSE(res.header("Access-Control-Allow-Methods"));
            EXPECT_FALSE(res.header("Access-Control-Allow-Headers"));
            EXPECT_FALSE(res.header("Access-Control-Allow-Credentials"));
        }
    }
    // Exact string comparison: no normalisation of case, slash, scheme or port.
    for (const std::string& origin : std::vector<std::string>{
             "https://evil.example", "https://www.example.com/", "HTTPS://WWW.EXAMPLE.COM",
             "http://www.example.com", "https://www.example.com:443", "http://localhost:8081",
             "null", ""}) {
        const auto res =
            http_request(server.port(), verb::get, "/api/statistics", {}, {{"Origin", origin}});
        EXPECT_EQ(res.status, 200u);
        EXPECT_FALSE(res.header("Access-Control-Allow-Origin"))
            << "origin \"" << origin << "\" got " << *res.header("Access-Control-Allow-Origin");
        EXPECT_EQ(res.body, kEmptyStatistics);
    }
    // Other API endpoints never send CORS headers.
    const auto res =
        http_request(server.port(), verb::post, "/api/authenticate", "{}",
                     {{"Content-Type", "application/json"}, {"Origin", "https://www.example.com"}});
    EXPECT_FALSE(res.header("Access-Control-Allow-Origin"));
}

// Checks a token signed by /api/authenticate (api.md §5) and returns its payload.
bj::object check_signed_token(const HttpResponse& res) {
    EXPECT_EQ(res.status, 200u) << res.body;
    EXPECT_EQ(res.header("Content-Type").value_or(""), "application/json");
    const bj::object body = parse_object(res.body);
    const std::string token = str(body, "JWT");
    EXPECT_FALSE(token.empty());
    EXPECT_EQ(res.body, "{\n  \"OK\": true,\n  \"JWT\": \"" + token + "\"\n}\n");
    EXPECT_EQ(jwt_header(token), (bj::object{{"alg", "HS256"}, {"typ", "JWT"}}));
    EXPECT_TRUE(jwt_signature_ok(token)) << token;
    const bj::object payload = jwt_payload(token);
    const std::int64_t now = unix_now();
    EXPECT_NEAR(static_cast<double>(num(payload, "iat")), static_cast<double>(now), 5.0);
    EXPECT_EQ(num(payload, "nbf"), num(payload, "iat"));
    EXPECT_EQ(num(payload, "exp"), num(payload, "iat") + 300);
    return payload;
}

TEST(ApiE2E, AuthenticateBothPathsSignTokensThatLogIn) {
    Server server(mixed_jwt());
    struct Case {
        std::string path;
        std::string sub;
    };
    for (const Case& c :
         {Case{"/api/authenticate", "carol"}, Case{"/api/authentication", "dave"}}) {
        SCOPED_TRACE(c.path);
        // Sent exp/iat/nbf values are discarded; custom claims are kept.
        const auto res =
            post_json(server.port(), c.path,
                      authenticate_body(
                          R"({"sub": ")" + c.sub +
                          R"(", "nick": "Nick", "emoji": "🤖", "exp": 1, "iat": 1, "nbf": 1})"));
        const bj::object payload = check_signed_token(res);
        EXPECT_EQ(str(payload, "sub"), c.sub);
        EXPECT_EQ(str(payload, "nick"), "Nick");
        EXPECT_EQ(str(payload, "emoji"), "🤖");

        // The token logs in on the socket; the session takes the token's sub, not the typed
        // name.
        WsClient ws(server.port());
        const auto burst = ws.login("typed-name", str(parse_object(res.body), "JWT"));
        ASSERT_FALSE(burst.empty());
        EXPECT_EQ(burst.front(), (bj::object{{"action", "me"}, {"username", c.sub}}));
    }
}

TEST(ApiE2E, AuthenticateWorksWithJwtDisabledAndKeysAreCaseInsensitive) {
    Server server;  // [JWT] Enabled = false
    const auto res = post_json(server.port(), "/api/authenticate",
                               R"({"apikey": ")" + std::string(kApiKey) +
                                   R"(", "claims": {"sub": "erin"}, "Unknown": 1} trailing)");
    const bj::object payload = check_signed_token(res);
    EXPECT_EQ(str(payload, "sub"), "erin");
    WsClient ws(server.port());
    const auto burst = ws.login("someone-else", str(parse_object(res.body), "JWT"));
    ASSERT_FALSE(burst.empty());
    EXPECT_EQ(burst.front(), (bj::object{{"action", "me"}, {"username", "erin"}}));
}

TEST(ApiE2E, PostEndpointErrorsAreExact) {
    Server server(mixed_jwt());
    const std::string good_auth = authenticate_body(R"({"sub": "x"})");
    for (const std::string& path :
         std::vector<std::string>{"/api/authenticate", "/api/authentication", "/api/blocklist"}) {
        SCOPED_TRACE(path);
        auto expect = [&](const HttpResponse& res, unsigned status, std::string_view error) {
            EXPECT_EQ(res.status, status);
            EXPECT_EQ(res.header("Content-Type").value_or(""), "application/json");
            EXPECT_EQ(res.body, api_error_body(error));
        };
        // Step 1: method.
        for (verb method : {verb::get, verb::put, verb::options, verb::delete_}) {
            expect(http_request(server.port(), method, path, good_auth,
                                {{"Content-Type", "application/json"}}),
                   400, "Only POST methods allowed");
        }
        // Step 2: content type, compared exactly.
        for (const std::string& type : std::vector<std::string>{
                 "text/plain", "application/json; charset=utf-8", "Application/JSON", ""}) {
            Headers h;
            if (!type.empty()) h.emplace_back("Content-Type", type);
            expect(http_request(server.port(), verb::post, path, good_auth, h), 400,
                   "Only application/json content-types allowed");
        }
        // Step 3: JSON decoding.
        expect(post_json(server.port(), path, ""), 400, "EOF");
        expect(post_json(server.port(), path, "x"), 400,
               "invalid character 'x' looking for beginning of value");
        expect(post_json(server.port(), path, "{\"APIKey\": \"abc\""), 400, "unexpected EOF");
        {
            const auto res = post_json(server.port(), path, R"({"APIKey": 42})");
            EXPECT_EQ(res.status, 400u);
            const bj::object body = parse_object(res.body);
            EXPECT_EQ(body.at("OK"), false);
            EXPECT_NE(str(body, "Error").find("cannot unmarshal number"), std::string::npos)
                << res.body;
        }
        // Step 4: API key.
        expect(post_json(server.port(), path, R"({"APIKey": "wrong", "Claims": {"sub": "x"}})"),
               401, "Authentication denied.");
        expect(post_json(server.port(), path, "{}"), 401, "Authentication denied.");
        expect(post_json(server.port(), path, "null"), 401, "Authentication denied.");
    }
}

TEST(ApiE2E, BlocklistIsExactAndAppliesAtJwtLogin) {
    Server server(mixed_jwt());
    const auto res = post_json(server.port(), "/api/blocklist",
                               R"({"APIKey": ")" + std::string(kApiKey) +
                                   R"(", "Username": "dave", "Blocklist": ["bob"]})");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "{\n  \"OK\": true\n}\n");

    // The chat page opened with dave's token embeds the cached list (api.md §8).
    const std::string dave_token = user_jwt("dave");
    const auto page = http_get(server.port(), "/?jwt=" + dave_token);
    EXPECT_EQ(page.status, 200u);
    EXPECT_NE(page.body.find("CachedBlocklist = [\"bob\"]"), std::string::npos);
    // Nobody else's page gets it.
    const auto other = http_get(server.port(), "/?jwt=" + user_jwt("carol"));
    EXPECT_NE(other.body.find("CachedBlocklist = []"), std::string::npos);

    WsClient bob(server.port());
    WsClient carol(server.port());
    WsClient dave(server.port());
    bob.login("bob");
    carol.login("carol");
    const auto burst = dave.login("typed", dave_token);
    ASSERT_FALSE(burst.empty());
    EXPECT_EQ(burst.front(), (bj::object{{"action", "me"}, {"username", "dave"}}));

    // bob's public message reaches carol but not dave.
    bob.say("lobby", "from bob");
    auto from_bob = bob.recv_action("message");
    ASSERT_TRUE(from_bob);
    EXPECT_EQ(*carol.recv_action("message"), *from_bob);
    EXPECT_EQ(dave.sync(), std::vector<bj::object>{}) << "dave must not see bob's message";

    // dave's public message reaches carol but not bob.
    dave.say("lobby", "from dave");
    auto from_dave = dave.recv_action("message");
    ASSERT_TRUE(from_dave);
    EXPECT_EQ(str(*from_dave, "username"), "dave");
    EXPECT_EQ(*carol.recv_action("message"), *from_dave);
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{}) << "bob must not see dave's message";

    // DMs between them are dropped silently in both directions; the sender only gets the echo.
    bob.say("@dave", "psst dave");
    auto echo = bob.recv();
    ASSERT_TRUE(echo);
    EXPECT_EQ(str(*echo, "channel"), "@dave");
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});
    // The blocklist also mutes (protocol.md §5.10), so dave is told why his DM was not sent.
    dave.say("@bob", "psst bob");
    echo = dave.recv();
    ASSERT_TRUE(echo);
    EXPECT_EQ(str(*echo, "channel"), "@bob");
    EXPECT_EQ(dave.recv(),
              chat_server("You have muted bob and so your message has not been sent."));
    EXPECT_EQ(dave.sync(), std::vector<bj::object>{});
    EXPECT_EQ(bob.sync(), std::vector<bj::object>{});

    // A user who is not on the list still reaches dave.
    carol.say("@dave", "hi dave");
    auto dm = dave.recv_action("message");
    ASSERT_TRUE(dm);
    EXPECT_EQ(str(*dm, "channel"), "@carol");
    EXPECT_EQ(str(*dm, "message"), "<p>hi dave</p>");
}

}  // namespace
}  // namespace e2e
