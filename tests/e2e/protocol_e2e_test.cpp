// End-to-end tests of the protocol's larger flows over real sockets: camera signalling,
// image sharing, operator kick and ban, and a message filter (protocol.md §5.3–5.7, §11, §14,
// commands.md, features.md §4).

#include "harness.hpp"
#include "util/base64.hpp"

#include <gtest/gtest.h>

namespace e2e {
namespace {

std::string base64_decode_std(std::string_view text) {
    return barertc::base64::decode(text).value_or(std::string());
}

// The smallest valid PNG: 1×1 pixel.
constexpr std::string_view kTinyPngBase64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+"
    "M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

TEST(ProtocolE2E, TwoUsersNegotiateACameraOpen) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    // Bob's camera is off: the open is refused with the exact reason.
    alice.send({{"action", "open"}, {"username", "bob"}});
    EXPECT_EQ(alice.recv_action("error"),
              chat_server("Could not open that video: Their video is not currently enabled."));

    bob.send({{"action", "me"}, {"video", 1}, {"status", "online"}});
    bob.sync();
    alice.send({{"action", "open"}, {"username", "bob"}});
    const auto ring = bob.recv_action("ring");
    const auto open = alice.recv_action("open");
    ASSERT_TRUE(ring && open);
    EXPECT_EQ(str(*ring, "username"), "alice");
    EXPECT_EQ(str(*open, "username"), "bob");
    EXPECT_EQ(str(*ring, "openSecret").size(), 16u);
    EXPECT_EQ(str(*ring, "openSecret"), str(*open, "openSecret"));

    // Offer, answer and candidates are relayed as coming from the sender, unchanged.
    const std::string offer = R"({"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"})";
    alice.send({{"action", "sdp"}, {"username", "bob"}, {"description", offer}});
    EXPECT_EQ(bob.recv_action("sdp"),
              (bj::object{{"action", "sdp"}, {"username", "alice"}, {"description", offer}}));
    const std::string answer = R"({"type":"answer","sdp":"v=0\r\n"})";
    bob.send({{"action", "sdp"}, {"username", "alice"}, {"description", answer}});
    EXPECT_EQ(alice.recv_action("sdp"),
              (bj::object{{"action", "sdp"}, {"username", "bob"}, {"description", answer}}));
    const std::string candidate =
        R"({"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host"})";
    alice.send({{"action", "candidate"}, {"username", "bob"}, {"candidate", candidate}});
    EXPECT_EQ(
        bob.recv_action("candidate"),
        (bj::object{{"action", "candidate"}, {"username", "alice"}, {"candidate", candidate}}));
    bob.send({{"action", "candidate"}, {"username", "alice"}, {"candidate", candidate}});
    EXPECT_EQ(alice.recv_action("candidate"),
              (bj::object{{"action", "candidate"}, {"username", "bob"}, {"candidate", candidate}}));
    alice.send({{"action", "watch"}, {"username", "bob"}});
    EXPECT_EQ(bob.recv_action("watch"), (bj::object{{"action", "watch"}, {"username", "alice"}}));

    // Once Bob boots Alice, she may no longer open his camera.
    bob.send({{"action", "boot"}, {"username", "alice"}});
    bob.sync();
    alice.send({{"action", "open"}, {"username", "bob"}});
    EXPECT_EQ(alice.recv_action("error"),
              chat_server("Could not open that video: You do not have permission to view that "
                          "camera."));
}

TEST(ProtocolE2E, SharedImageArrivesAsTheExactImgTag) {
    Server server;
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");

    // The page sends bytes as an array of numbers; base64 is accepted too.
    const std::string png = base64_decode_std(kTinyPngBase64);
    bj::array bytes;
    for (unsigned char c : png) bytes.emplace_back(static_cast<int>(c));
    alice.send(
        {{"action", "file"}, {"channel", "lobby"}, {"message", "dot.png"}, {"bytes", bytes}});
    const auto seen_by_bob = bob.recv_action("message", 10s);
    const auto seen_by_alice = alice.recv_action("message", 10s);
    ASSERT_TRUE(seen_by_bob && seen_by_alice);
    EXPECT_EQ(*seen_by_bob, *seen_by_alice);
    EXPECT_EQ(str(*seen_by_bob, "username"), "alice");
    EXPECT_EQ(str(*seen_by_bob, "channel"), "lobby");
    const std::string html = str(*seen_by_bob, "message");
    const std::string prefix = "<img src=\"data:image/png;base64,";
    // An image smaller than the preview size is shown as a 360×360 square (features.md §10).
    const std::string suffix =
        "\" width=\"360\" height=\"360\" onclick=\"setModalImage(this.src)\" style=\"cursor: "
        "pointer\">";
    ASSERT_EQ(html.rfind(prefix, 0), 0u) << html;
    ASSERT_GE(html.size(), prefix.size() + suffix.size());
    EXPECT_EQ(html.substr(html.size() - suffix.size()), suffix);
    const std::string reencoded =
        base64_decode_std(html.substr(prefix.size(), html.size() - prefix.size() - suffix.size()));
    EXPECT_EQ(reencoded.rfind("\x89PNG\r\n\x1a\n", 0), 0u);

    alice.send({{"action", "file"},
                {"channel", "lobby"},
                {"message", "dot.png"},
                {"bytes", std::string(kTinyPngBase64)}});
    EXPECT_TRUE(bob.recv_action("message", 10s));

    // Not an image: the sender is told, the others see nothing.
    alice.send({{"action", "file"},
                {"channel", "lobby"},
                {"message", "notes.txt"},
                {"bytes", "aGVsbG8="}});
    EXPECT_EQ(alice.recv_action("error"),
              chat_server("Unsupported image type, should be a jpeg, GIF or png."));
    alice.send(
        {{"action", "file"}, {"channel", "lobby"}, {"message", "fake.png"}, {"bytes", "aGVsbG8="}});
    const auto refused = alice.recv_action("error", 10s);
    ASSERT_TRUE(refused);
    EXPECT_EQ(str(*refused, "message").rfind("Could not process that image", 0), 0u);
    EXPECT_EQ(with_action(bob.sync(), "message"), std::vector<bj::object>{});
}

TEST(ProtocolE2E, OperatorKicksAndBans) {
    Server server;
    WsClient boss(server.port());
    WsClient bob(server.port());
    boss.login("", make_jwt({{"sub", "boss"}, {"op", true}}));
    ASSERT_EQ(boss.username(), "boss");
    bob.login("bob");

    boss.say("lobby", "/kick bob");
    EXPECT_EQ(bob.recv_action("error"),
              chat_server("You have been kicked from the chat room by boss"));
    EXPECT_TRUE(bob.recv_action("disconnect"));
    EXPECT_EQ(boss.recv_action("error"), chat_server("bob has been kicked from the room"));

    // A kick is not a ban: bob comes straight back.
    WsClient bob2(server.port());
    bob2.login("bob");
    EXPECT_EQ(bob2.username(), "bob");

    boss.say("lobby", "/ban bob 2");
    EXPECT_EQ(bob2.recv_action("error"),
              chat_server("You have been banned from the chat room by boss. You may come back "
                          "after 2 hours."));
    EXPECT_TRUE(bob2.recv_action("disconnect"));
    EXPECT_EQ(boss.recv_action("error"),
              chat_server("bob has been banned from the room for 2 hours."));

    WsClient bob3(server.port());
    bob3.send({{"action", "login"}, {"username", "bob"}});
    const auto notice = bob3.recv_action("error");
    ASSERT_TRUE(notice);
    EXPECT_EQ(str(*notice, "message")
                  .rfind("You are currently banned from entering the chat room. Chat room bans "
                         "are temporary and usually last for 24 hours.<br><br>Your ban expires "
                         "in: 1h59m",
                         0),
              0u)
        << str(*notice, "message");
    EXPECT_TRUE(bob3.recv_action("disconnect"));

    // A non-operator's slash text is just chat.
    WsClient carol(server.port());
    carol.login("carol");
    carol.say("lobby", "/kick boss");
    const auto posted = boss.recv_action("message");
    ASSERT_TRUE(posted);
    EXPECT_EQ(str(*posted, "message"), "<p>/kick boss</p>");
}

TEST(ProtocolE2E, FilterCensorsAndAnswers) {
    ServerConfig config;
    config.extra_toml = R"(
[[MessageFilters]]
Enabled = true
PublicChannels = true
PrivateChannels = true
KeywordPhrases = ['\bdarn\b']
CensorMessage = true
ForwardMessage = true
ReportMessage = false
ChatServerResponse = "Watch your language."
)";
    Server server(config);
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");
    alice.say("lobby", "darn it");
    const auto seen = bob.recv_action("message");
    ASSERT_TRUE(seen);
    EXPECT_EQ(str(*seen, "message"), "<p>**** it</p>");
    EXPECT_EQ(alice.recv_action("error"), chat_server("Watch your language."));
}

}  // namespace
}  // namespace e2e
