// Unit tests of the chat core (barertc::chat::Room) and of the client message parser, against
// the protocol spec (protocol.md §5–§22, auth.md, decisions.md point 11, features.md §1).
// Every test feeds events with explicit times and asserts the exact frames each session gets.

#include "chat/room.hpp"
#include "auth/jwt.hpp"
#include "chat/protocol.hpp"
#include "config/settings.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bj = boost::json;
using namespace barertc;
using chat::ClientMessage;
using chat::Output;
using chat::Room;
using chat::SessionId;
using chat::Time;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kStartUnix = 1751478800;  // 2025-07-02T17:53:20Z
const Time T0{std::chrono::seconds{kStartUnix}};
const Time kNow = T0 + 60s;                         // past both reboot graces
constexpr std::int64_t kNowUnix = kStartUnix + 60;  // loginAt of logins at kNow
constexpr std::int64_t kFirstId = kStartUnix + 1;
constexpr std::string_view kSecret = "room-test-secret";

constexpr std::string_view kMustLogIn = "You must log in first.";
constexpr std::string_view kAuthExpired =
    "Your authentication has expired. Please go back and launch the chat room again.";
constexpr std::string_view kAuthRequired =
    "Server side authentication is required. Please go back and launch the chat room from "
    "your logged-in account.";
constexpr std::string_view kSignedOut =
    "You have been signed out of chat because you logged in from another location.";
constexpr std::string_view kDisconnect = R"({"action":"disconnect"})";
constexpr std::string_view kJoined = "has joined the room!";
constexpr std::string_view kExited = "has exited the room!";

// ----- expected frames ------------------------------------------------------------------

// Go's encoding/json escaping of the characters our expected texts contain.
std::string go_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '<':
                out += "\\u003c";
                break;
            case '>':
                out += "\\u003e";
                break;
            case '&':
                out += "\\u0026";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

// The JSON-escaped HTML of a plain chat text: "<p>text</p>".
std::string para(std::string_view text) {
    return go_escape("<p>" + std::string(text) + "</p>");
}

std::string notice(std::string_view text, std::string_view channel = {}) {
    std::string s = R"({"action":"error",)";
    if (!channel.empty()) s += R"("channel":")" + std::string(channel) + R"(",)";
    return s + R"("username":"ChatServer","message":")" + go_escape(text) + R"("})";
}

std::string presence(std::string_view name, std::string_view text) {
    return R"({"action":"presence","username":")" + std::string(name) + R"(","message":")" +
           std::string(text) + R"("})";
}

std::string me(std::string_view name, std::int64_t video = 0) {
    std::string s = R"({"action":"me","username":")" + std::string(name) + "\"";
    if (video != 0) s += R"(,"video":)" + std::to_string(video);
    return s + "}";
}

// A chat message frame; `html` is already JSON-escaped (see para()).
std::string chat_msg(std::string_view channel, std::string_view from, std::string_view html,
                     std::int64_t id) {
    return R"({"action":"message","channel":")" + std::string(channel) + R"(","username":")" +
           std::string(from) + R"(","message":")" + std::string(html) + R"(","msgID":)" +
           std::to_string(id) + "}";
}

std::string echo_entry(std::string_view channel, std::string_view from, std::string_view html,
                       std::int64_t id, std::string_view timestamp) {
    std::string s = chat_msg(channel, from, html, id);
    s.pop_back();
    return s + R"(,"timestamp":")" + std::string(timestamp) + R"("})";
}

// A Who entry of a session without claims.
std::string entry(std::string_view name, std::int64_t video = 0, std::string_view status = "online",
                  std::int64_t login_at = kNowUnix) {
    return R"({"username":")" + std::string(name) + R"(","status":")" + std::string(status) +
           R"(","video":)" + std::to_string(video) + R"(,"loginAt":)" + std::to_string(login_at) +
           R"(,"op":false})";
}

// A Who entry of a session with claims; `flags` is what follows "op": (e.g. `true,"vip":true`).
std::string claims_entry(std::string_view name, std::int64_t video, std::string_view op_etc,
                         std::string_view status = "online") {
    return R"({"username":")" + std::string(name) + R"(","status":")" + std::string(status) +
           R"(","video":)" + std::to_string(video) + R"(,"loginAt":)" + std::to_string(kNowUnix) +
           R"(,"op":)" + std::string(op_etc) + "}";
}

std::string who(const std::vector<std::string>& entries) {
    if (entries.empty()) return R"({"action":"who"})";
    std::string s = R"({"action":"who","whoList":[)";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i) s += ',';
        s += entries[i];
    }
    return s + "]}";
}

// ----- reading an Output ----------------------------------------------------------------

using Sent = std::pair<SessionId, std::string>;

std::vector<Sent> all(const Output& out) {
    std::vector<Sent> v;
    for (const auto& d : out.deliveries) v.emplace_back(d.to, *d.payload);
    return v;
}

std::vector<std::string> to(const Output& out, SessionId id) {
    std::vector<std::string> v;
    for (const auto& d : out.deliveries)
        if (d.to == id) v.push_back(*d.payload);
    return v;
}

using Frames = std::vector<std::string>;

// ----- tokens ---------------------------------------------------------------------------

auth::Claims claims_for(std::string sub, bool op = false, bool vip = false) {
    auth::Claims c;
    c.sub = std::move(sub);
    c.op = op;
    c.vip = vip;
    return c;
}

std::string token(const auth::Claims& c, std::string_view secret = kSecret) {
    return auth::sign(c, secret);
}

// ----- fixture --------------------------------------------------------------------------

class RoomTest : public ::testing::Test {
  protected:
    RoomTest() {
        setenv("TZ", "UTC", 1);
        tzset();
        cfg = config::default_settings();
        cfg.jwt.secret_key = std::string(kSecret);
        // Most tests do not want the welcome messages in every login burst.
        for (auto& c : cfg.public_channels) c.welcome_messages.clear();
    }

    // The room is created on first use, so a test can adjust `cfg` first.
    Room& room() {
        if (!room_) {
            room_ = std::make_unique<Room>(std::make_shared<const config::Settings>(cfg), T0,
                                           kFirstId, 12345);
        }
        return *room_;
    }

    static ClientMessage parse(std::string_view json) {
        auto r = chat::parse_client_message(json);
        EXPECT_TRUE(r.message.has_value()) << json << ": " << r.error;
        return r.message.value_or(ClientMessage{});
    }

    Output send(SessionId id, std::string_view json, Time now = kNow) {
        Output out;
        room().handle(id, parse(json), now, out);
        return out;
    }

    Output login(SessionId id, std::string_view name, Time now = kNow, bool dnd = false) {
        room().connect(id, {});
        bj::object o{{"action", "login"}, {"username", name}};
        if (dnd) o["dnd"] = true;
        return send(id, bj::serialize(o), now);
    }

    Output login_jwt(SessionId id, std::string_view jwt, std::string_view typed = "",
                     Time now = kNow) {
        room().connect(id, {});
        bj::object o{{"action", "login"}, {"username", typed}, {"jwt", jwt}};
        return send(id, bj::serialize(o), now);
    }

    Output login_claims(SessionId id, const auth::Claims& c, Time now = kNow) {
        return login_jwt(id, token(c), "", now);
    }

    Output flush() {
        Output out;
        room().flush_who(out);
        return out;
    }

    Output say(SessionId id, std::string_view channel, std::string_view text, Time now = kNow) {
        bj::object o{{"action", "message"}, {"channel", channel}, {"message", text}};
        return send(id, bj::serialize(o), now);
    }

    Output set_me(SessionId id, std::int64_t video, std::string_view status = "online",
                  bool dnd = false, Time now = kNow) {
        bj::object o{{"action", "me"}, {"video", video}, {"status", status}, {"dnd", dnd}};
        return send(id, bj::serialize(o), now);
    }

    Output act(SessionId id, std::string_view action, std::string_view username, Time now = kNow) {
        bj::object o{{"action", action}, {"username", username}};
        return send(id, bj::serialize(o), now);
    }

    Output disconnect(SessionId id, Time now = kNow) {
        Output out;
        room().disconnect(id, now, out);
        return out;
    }

    Output ping(SessionId id, Time now = kNow) {
        Output out;
        room().ping(id, now, out);
        return out;
    }

    config::Settings cfg;
    std::unique_ptr<Room> room_;
};

// =======================================================================================
// parse_client_message

TEST(ParseClientMessage, KeysAreCaseInsensitive) {
    auto r = chat::parse_client_message(
        R"({"Action":"message","CHANNEL":"lobby","userName":"bob","Message":"hi","MSGID":7,)"
        R"("Video":3,"DnD":true,"UserNames":["a","b"],"JWT":"t","Status":"away"})");
    ASSERT_TRUE(r.message.has_value()) << r.error;
    const auto& m = *r.message;
    EXPECT_EQ(m.action, "message");
    EXPECT_EQ(m.channel, "lobby");
    EXPECT_EQ(m.username, "bob");
    EXPECT_EQ(m.message, "hi");
    EXPECT_EQ(m.msg_id, 7);
    EXPECT_EQ(m.video, 3);
    EXPECT_TRUE(m.dnd);
    EXPECT_EQ(m.usernames, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(m.jwt, "t");
    EXPECT_EQ(m.status, "away");
}

TEST(ParseClientMessage, AllStringFieldsAreRead) {
    auto r = chat::parse_client_message(
        R"({"action":"report","timestamp":"ts","reason":"r","comment":"c","candidate":"cand",)"
        R"("description":"desc"})");
    ASSERT_TRUE(r.message.has_value()) << r.error;
    EXPECT_EQ(r.message->timestamp, "ts");
    EXPECT_EQ(r.message->reason, "r");
    EXPECT_EQ(r.message->comment, "c");
    EXPECT_EQ(r.message->candidate, "cand");
    EXPECT_EQ(r.message->description, "desc");
    EXPECT_FALSE(r.message->has_bytes);
}

TEST(ParseClientMessage, LaterKeysWinAndNullKeepsTheEarlierValue) {
    // As Go's decoder: keys are applied in order, case-insensitively; null is a no-op.
    auto r = chat::parse_client_message(R"({"action":"a","Action":"b","msgID":1,"msgid":null})");
    ASSERT_TRUE(r.message.has_value()) << r.error;
    EXPECT_EQ(r.message->action, "b");
    EXPECT_EQ(r.message->msg_id, 1);
}

TEST(ParseClientMessage, UnknownKeysAreIgnored) {
    auto r = chat::parse_client_message(
        R"({"action":"ping","foo":{"x":[1,2]},"bar":12,"baz":null,"whoList":[],"jwtRules":{}})");
    ASSERT_TRUE(r.message.has_value()) << r.error;
    EXPECT_EQ(r.message->action, "ping");
}

TEST(ParseClientMessage, NullLeavesZeroValues) {
    auto r = chat::parse_client_message(
        R"({"action":"me","video":null,"status":null,"dnd":null,"msgID":null,"usernames":null})");
    ASSERT_TRUE(r.message.has_value()) << r.error;
    EXPECT_EQ(r.message->video, 0);
    EXPECT_EQ(r.message->status, "");
    EXPECT_FALSE(r.message->dnd);
    EXPECT_EQ(r.message->msg_id, 0);
    EXPECT_TRUE(r.message->usernames.empty());
}

TEST(ParseClientMessage, WrongTypesRejectTheMessage) {
    for (std::string_view text : {
             R"({"action":"takeback","msgID":"12"})",
             R"({"action":"me","video":true})",
             R"({"action":"me","video":1.5})",
             R"({"action":"me","dnd":"yes"})",
             R"({"action":42})",
             R"({"action":"message","message":["x"]})",
             R"({"action":"blocklist","usernames":"bob"})",
             R"({"action":"blocklist","usernames":["bob",3]})",
             R"({"action":"ping","openSecret":5})",
             R"({"action":"ping","whoList":{}})",
         }) {
        auto r = chat::parse_client_message(text);
        EXPECT_FALSE(r.message.has_value()) << text;
        EXPECT_FALSE(r.error.empty()) << text;
    }
}

TEST(ParseClientMessage, BytesAsNumberArray) {
    auto r = chat::parse_client_message(R"({"action":"file","bytes":[137,80,0,255]})");
    ASSERT_TRUE(r.message.has_value()) << r.error;
    EXPECT_TRUE(r.message->has_bytes);
    EXPECT_EQ(r.message->bytes, std::string("\x89P\0\xff", 4));
}

TEST(ParseClientMessage, BytesAsBase64) {
    auto r = chat::parse_client_message(R"({"action":"file","bytes":"iVAA/w=="})");
    ASSERT_TRUE(r.message.has_value()) << r.error;
    EXPECT_TRUE(r.message->has_bytes);
    EXPECT_EQ(r.message->bytes, std::string("\x89P\0\xff", 4));
}

TEST(ParseClientMessage, BadBytesRejected) {
    for (std::string_view text : {
             R"({"action":"file","bytes":[1,256]})",
             R"({"action":"file","bytes":[-1]})",
             R"({"action":"file","bytes":[1.5]})",
             R"({"action":"file","bytes":["a"]})",
             R"({"action":"file","bytes":"not base64!"})",
             R"({"action":"file","bytes":7})",
         }) {
        EXPECT_FALSE(chat::parse_client_message(text).message.has_value()) << text;
    }
}

TEST(ParseClientMessage, InvalidJsonRejected) {
    for (std::string_view text : {"", "{", R"({"action":"ping")", "nope", R"({"a":1,})"}) {
        auto r = chat::parse_client_message(text);
        EXPECT_FALSE(r.message.has_value()) << text;
        EXPECT_FALSE(r.error.empty()) << text;
    }
}

TEST(ParseClientMessage, NonObjectRejected) {
    for (std::string_view text : {"[]", R"("login")", "42", "null", "true"}) {
        auto r = chat::parse_client_message(text);
        EXPECT_FALSE(r.message.has_value()) << text;
        EXPECT_EQ(r.error, "not a JSON object") << text;
    }
}

// =======================================================================================
// Login (protocol.md §5.1, §7, §8; auth.md §5)

TEST_F(RoomTest, LoginBurstForJoinerAndOthers) {
    cfg = config::default_settings();  // with the default welcome messages
    login(1, "bob");
    flush();

    Output out = login(2, "alice");
    const std::vector<Sent> expected{
        {2, me("alice")},
        {2, R"({"action":"echo"})"},
        // Presence goes to every authenticated user in name order, the joiner included.
        {2, presence("alice", kJoined)},
        {1, presence("alice", kJoined)},
        {2, notice("<p>Welcome to the chat server!</p>", "lobby")},
        {2, notice("<p>Please follow the basic rules:</p>\n<ol>\n<li>Have fun</li>\n<li>Be "
                   "kind</li>\n</ol>",
                   "lobby")},
        {2, notice("<p>Welcome to the Off Topic channel!</p>", "offtopic")},
        {2, notice("<p>This channel is only for operators and VIPs.</p>", "vip")},
    };
    EXPECT_EQ(all(out), expected);
    EXPECT_TRUE(room().who_dirty());
    EXPECT_TRUE(room().is_authenticated(2));
    EXPECT_EQ(room().username_of(2), "alice");
    EXPECT_EQ(room().online_count(), 2u);

    Output w = flush();
    const std::string list = who({entry("alice"), entry("bob")});
    EXPECT_EQ(all(w), (std::vector<Sent>{{2, list}, {1, list}}));
    EXPECT_FALSE(room().who_dirty());
}

TEST_F(RoomTest, LoginStoresDndAndLoginTime) {
    login(1, "alice", kNow + 5s, /*dnd=*/true);
    EXPECT_EQ(to(flush(), 1),
              Frames{who({R"({"username":"alice","status":"online","video":0,"dnd":true,)"
                          R"("loginAt":)" +
                          std::to_string(kNowUnix + 5) + R"(,"op":false})"})});
}

TEST_F(RoomTest, GuestNameCollisionRenames) {
    EXPECT_EQ(to(login(1, "alice"), 1).front(), me("alice"));
    EXPECT_EQ(to(login(2, "alice"), 2).front(), me("alice 2"));
    EXPECT_EQ(to(login(3, "alice"), 3).front(), me("alice 3"));
    EXPECT_EQ(room().username_of(3), "alice 3");
    disconnect(2);
    EXPECT_EQ(to(login(4, "alice"), 4).front(), me("alice 2"));
    // The first holder is untouched.
    EXPECT_TRUE(room().is_authenticated(1));
    EXPECT_EQ(room().username_of(1), "alice");
}

TEST_F(RoomTest, EmptyNameBecomesAnonymous) {
    EXPECT_EQ(to(login(1, ""), 1).front(), me("anonymous"));
    EXPECT_EQ(to(login(2, ""), 2).front(), me("anonymous 2"));
}

TEST_F(RoomTest, RepeatedLoginKeepsItsName) {
    login(1, "alice");
    Output out = login(1, "alice");
    EXPECT_EQ(to(out, 1).front(), me("alice"));
    EXPECT_EQ(room().username_of(1), "alice");
    EXPECT_EQ(room().online_count(), 1u);
}

TEST_F(RoomTest, JwtSubOverridesTypedName) {
    Output out = login_jwt(1, token(claims_for("alice")), "mallory");
    EXPECT_EQ(to(out, 1).front(), me("alice"));
    EXPECT_EQ(room().username_of(1), "alice");
}

TEST_F(RoomTest, JwtWithoutSubLogsInAsAnonymous) {
    Output out = login_jwt(1, token(claims_for("")), "mallory");
    EXPECT_EQ(to(out, 1).front(), me("anonymous"));
    EXPECT_EQ(room().username_of(1), "anonymous");
}

TEST_F(RoomTest, JwtWithoutSubDoesNotEvictAnAnonymousGuest) {
    // The eviction of §8 is for a token whose `sub` is taken; a token without `sub` has no
    // identity to claim, so it is renamed like a guest (as the original does).
    login(1, "");
    flush();
    Output out = login_jwt(2, token(claims_for("")));
    EXPECT_EQ(to(out, 1), Frames{presence("anonymous 2", kJoined)});
    EXPECT_EQ(to(out, 2).front(), me("anonymous 2"));
    EXPECT_TRUE(room().is_authenticated(1));
    EXPECT_EQ(room().username_of(1), "anonymous");
}

TEST_F(RoomTest, InvalidTokenRefusedEvenWithJwtDisabled) {
    ASSERT_FALSE(cfg.jwt.enabled);
    for (const std::string& bad : {std::string("not-a-token"), std::string("a.b.c"),
                                   token(claims_for("alice"), "another-secret")}) {
        Output out = login_jwt(1, bad, "alice");
        EXPECT_EQ(all(out), (std::vector<Sent>{{1, notice(kAuthExpired)}})) << bad;
        EXPECT_FALSE(room().is_authenticated(1));
        EXPECT_EQ(room().username_of(1), "");
    }
    EXPECT_FALSE(room().who_dirty());
    EXPECT_EQ(room().online_count(), 0u);
    EXPECT_EQ(room().connection_count(), 1u);
}

TEST_F(RoomTest, ExpiredTokenRefused) {
    auto c = claims_for("alice");
    c.exp = kNowUnix - 1;
    Output out = login_jwt(1, token(c));
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, notice(kAuthExpired)}}));
    EXPECT_FALSE(room().is_authenticated(1));
}

TEST_F(RoomTest, StrictModeRequiresAToken) {
    cfg.jwt.enabled = true;
    cfg.jwt.strict = true;
    Output out = login(1, "alice");
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, notice(kAuthRequired)}}));
    EXPECT_FALSE(room().is_authenticated(1));
    // A valid token still gets in.
    EXPECT_EQ(to(login_claims(2, claims_for("alice")), 2).front(), me("alice"));
}

TEST_F(RoomTest, MixedModeAcceptsGuests) {
    cfg.jwt.enabled = true;
    cfg.jwt.strict = false;
    EXPECT_EQ(to(login(1, "guest"), 1).front(), me("guest"));
    EXPECT_TRUE(room().is_authenticated(1));
}

TEST_F(RoomTest, SecondJwtLoginEvictsTheOlderSession) {
    login(3, "carol");
    login_claims(1, claims_for("alice"));
    flush();

    Output out = login_claims(2, claims_for("alice"));
    // The old session: notice + disconnect, nothing else (it is no longer authenticated, so
    // it does not even get the new session's join presence).
    EXPECT_EQ(to(out, 1), (Frames{notice(kSignedOut), std::string(kDisconnect)}));
    // Nobody sees an exit presence; the others see the new join.
    EXPECT_EQ(to(out, 3), Frames{presence("alice", kJoined)});
    EXPECT_EQ(to(out, 2).front(), me("alice"));
    EXPECT_FALSE(room().is_authenticated(1));
    EXPECT_EQ(room().username_of(1), "");
    EXPECT_EQ(room().username_of(2), "alice");

    Output w = flush();
    const std::string list = who({entry("alice"), entry("carol")});
    EXPECT_EQ(all(w), (std::vector<Sent>{{2, list}, {3, list}}));

    // The evicted session's actions now need a login, and its close is silent.
    EXPECT_EQ(all(say(1, "lobby", "hi")), (std::vector<Sent>{{1, notice(kMustLogIn)}}));
    Output bye = disconnect(1);
    EXPECT_TRUE(bye.deliveries.empty());
    EXPECT_FALSE(room().who_dirty());
    EXPECT_EQ(room().connection_count(), 2u);
}

TEST_F(RoomTest, JwtLoginEvictsAGuestHoldingTheName) {
    login(1, "alice");
    Output out = login_claims(2, claims_for("alice"));
    EXPECT_EQ(to(out, 1), (Frames{notice(kSignedOut), std::string(kDisconnect)}));
    EXPECT_EQ(room().username_of(2), "alice");
}

TEST_F(RoomTest, GuestCannotTakeAJwtUsersName) {
    login_claims(1, claims_for("alice"));
    Output out = login(2, "alice");
    EXPECT_EQ(to(out, 2).front(), me("alice 2"));
    EXPECT_EQ(to(out, 1), Frames{presence("alice 2", kJoined)});
}

TEST_F(RoomTest, CachedBlocklistAppliesAtJwtLogin) {
    login(1, "bob");
    room().cache_blocklist("alice", {"bob", "", "alice"});
    EXPECT_EQ(room().cached_blocklist("alice"), (std::vector<std::string>{"bob", "", "alice"}));
    Output in = login_claims(2, claims_for("alice"));
    // alice blocks bob: neither sees the other's presence.
    EXPECT_TRUE(to(in, 1).empty());
    Output w = flush();
    EXPECT_EQ(to(w, 1), Frames{who({entry("bob")})});
    EXPECT_EQ(to(w, 2), Frames{who({entry("alice")})});
    EXPECT_EQ(to(say(1, "lobby", "hi"), 2), Frames{});
}

TEST_F(RoomTest, CachedBlocklistIsNotAppliedToGuests) {
    login(1, "bob");
    room().cache_blocklist("alice", {"bob"});
    Output in = login(2, "alice");
    EXPECT_EQ(to(in, 1), Frames{presence("alice", kJoined)});
}

// =======================================================================================
// Actions before login and unknown actions (§5, §22.4)

TEST_F(RoomTest, MostActionsNeedALogin) {
    login(2, "bob");
    flush();
    room().connect(1, {});
    for (std::string_view json : {
             R"({"action":"message","channel":"lobby","message":"hi"})",
             R"({"action":"me","video":1,"status":"online"})",
             R"({"action":"open","username":"bob"})",
             R"({"action":"candidate","username":"bob","candidate":"c"})",
             R"({"action":"sdp","username":"bob","description":"d"})",
             R"({"action":"watch","username":"bob"})",
             R"({"action":"unwatch","username":"bob"})",
             R"({"action":"block","username":"bob"})",
             R"({"action":"takeback","msgID":1})",
             R"({"action":"react","msgID":1,"message":"x"})",
         }) {
        Output out = send(1, json);
        EXPECT_EQ(all(out), (std::vector<Sent>{{1, notice(kMustLogIn)}})) << json;
    }
    EXPECT_FALSE(room().who_dirty());
    EXPECT_EQ(room().next_message_id(), kFirstId);
}

TEST_F(RoomTest, PreLoginActionsAreAcceptedSilently) {
    login(2, "boss");
    flush();
    room().connect(1, {});
    for (std::string_view json : {
             R"({"action":"blocklist","usernames":["carol"]})",
             R"({"action":"mute","username":"dave"})",
             R"({"action":"unmute","username":"dave"})",
             R"({"action":"boot","username":"boss"})",
             R"({"action":"unboot","username":"boss"})",
             R"({"action":"video-invite","usernames":["boss"]})",
             R"({"action":"ping"})",
         }) {
        Output out = send(1, json);
        EXPECT_TRUE(out.deliveries.empty()) << json;
    }
    // Relations of an unauthenticated session change nobody's Who list.
    EXPECT_FALSE(room().who_dirty());
}

TEST_F(RoomTest, UnknownActionsAreReported) {
    login(1, "alice");
    EXPECT_EQ(all(send(1, R"({"action":"typing"})")),
              (std::vector<Sent>{{1, notice("Unsupported message type: typing")}}));
    EXPECT_EQ(all(send(1, R"({"channel":"lobby"})")),
              (std::vector<Sent>{{1, notice("Unsupported message type: ")}}));
    // Also before login.
    room().connect(2, {});
    EXPECT_EQ(all(send(2, R"({"action":"typing"})")),
              (std::vector<Sent>{{2, notice("Unsupported message type: typing")}}));
}

TEST_F(RoomTest, ClientPingIsNotAnswered) {
    login(1, "alice");
    EXPECT_TRUE(send(1, R"({"action":"ping"})").deliveries.empty());
}

TEST_F(RoomTest, EventsForUnknownSessionsAreIgnored) {
    login(1, "alice");
    flush();
    EXPECT_TRUE(say(99, "lobby", "hi").deliveries.empty());
    EXPECT_TRUE(ping(99).deliveries.empty());
    EXPECT_TRUE(disconnect(99).deliveries.empty());
    EXPECT_FALSE(room().who_dirty());
}

// =======================================================================================
// Public messages (§5.2, §9, §12)

TEST_F(RoomTest, PublicMessageGoesToEveryAuthenticatedSession) {
    login(1, "alice");
    login(2, "bob");
    room().connect(3, {});  // not logged in: gets nothing
    flush();
    EXPECT_EQ(room().next_message_id(), kFirstId);

    Output out = say(1, "lobby", "hello");
    const std::string m1 = chat_msg("lobby", "alice", para("hello"), kFirstId);
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, m1}, {2, m1}}));

    // Any channel is accepted, including unknown ones; ids keep counting.
    Output out2 = say(2, "somewhere", "again");
    const std::string m2 = chat_msg("somewhere", "bob", para("again"), kFirstId + 1);
    EXPECT_EQ(all(out2), (std::vector<Sent>{{1, m2}, {2, m2}}));
    EXPECT_EQ(room().next_message_id(), kFirstId + 2);
    EXPECT_FALSE(room().who_dirty());
}

TEST_F(RoomTest, MessageTextIsTrimmedAndSanitised) {
    login(1, "alice");
    // Allowed markup stays, text is escaped, and a script is dropped with its content.
    Output out = say(1, "lobby", "  <b>x</b> & \"q\" 'a'<script>alert(1)</script>\n ");
    EXPECT_EQ(to(out, 1), Frames{chat_msg("lobby", "alice",
                                          "\\u003cp\\u003e\\u003cb\\u003ex\\u003c/b\\u003e "
                                          "\\u0026amp; \\u0026#34;q\\u0026#34; "
                                          "\\u0026#39;a\\u0026#39;\\u003c/p\\u003e",
                                          kFirstId)});
}

TEST_F(RoomTest, BlankMessageIsDroppedWithoutAnId) {
    login(1, "alice");
    EXPECT_TRUE(say(1, "lobby", " \n\t ").deliveries.empty());
    EXPECT_TRUE(say(1, "lobby", "").deliveries.empty());
    EXPECT_EQ(room().next_message_id(), kFirstId);
}

TEST_F(RoomTest, SlashTextIsPostedAsChat) {
    login(1, "alice");
    EXPECT_EQ(to(say(1, "lobby", "/kick bob"), 1),
              Frames{chat_msg("lobby", "alice", para("/kick bob"), kFirstId)});
}

TEST_F(RoomTest, VipChannelMessagesReachOnlyVipsAndOperators) {
    login(1, "guest");
    login_claims(2, claims_for("vipper", false, true));
    login_claims(3, claims_for("boss", true, false));
    Output out = say(1, "vip", "psst");
    // Not even the non-VIP sender gets a copy.
    const std::string m = chat_msg("vip", "guest", para("psst"), kFirstId);
    EXPECT_EQ(all(out), (std::vector<Sent>{{3, m}, {2, m}}));

    Output out2 = say(2, "vip", "hi vips");
    const std::string m2 = chat_msg("vip", "vipper", para("hi vips"), kFirstId + 1);
    EXPECT_EQ(all(out2), (std::vector<Sent>{{3, m2}, {2, m2}}));
}

TEST_F(RoomTest, RateLimitRefusesTheExcess) {
    cfg.limits.messages_per_second = 1;
    cfg.limits.message_burst = 2;
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(to(say(1, "lobby", "one"), 2).size(), 1u);
    EXPECT_EQ(to(say(1, "lobby", "two"), 2).size(), 1u);
    Output third = say(1, "lobby", "three");
    EXPECT_EQ(all(third),
              (std::vector<Sent>{{1, notice("You are sending messages too quickly. Please slow "
                                            "down: your last message was not sent.")}}));
    EXPECT_EQ(room().next_message_id(), kFirstId + 2);
    // Another user has a bucket of their own.
    EXPECT_EQ(to(say(2, "lobby", "mine"), 1).size(), 1u);
    // One second later one token is back.
    Output later = say(1, "lobby", "four", kNow + 1s);
    EXPECT_EQ(to(later, 2), Frames{chat_msg("lobby", "alice", para("four"), kFirstId + 3)});
    EXPECT_EQ(all(say(1, "lobby", "five", kNow + 1s)), all(third));
}

TEST_F(RoomTest, RateLimitedMessageIsNotEchoed) {
    cfg.limits.messages_per_second = 1;
    cfg.limits.message_burst = 1;
    login(1, "alice");
    say(1, "lobby", "one");
    say(1, "lobby", "two");  // refused
    Output in = login(2, "bob");
    EXPECT_EQ(to(in, 2)[1],
              R"({"action":"echo","messages":[)" +
                  echo_entry("lobby", "alice", para("one"), kFirstId, "2025-07-02T17:54:20Z") +
                  "]}");
}

TEST_F(RoomTest, RateLimitZeroDisablesIt) {
    cfg.limits.messages_per_second = 0;
    cfg.limits.message_burst = 1;
    login(1, "alice");
    for (int i = 0; i < 100; ++i) ASSERT_EQ(to(say(1, "lobby", "x"), 1).size(), 1u);
    EXPECT_EQ(room().next_message_id(), kFirstId + 100);
}

// =======================================================================================
// Direct messages (§13)

TEST_F(RoomTest, DirectMessageEchoFirstThenRecipient) {
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    Output out = say(1, "@bob", "hey");
    EXPECT_EQ(all(out),
              (std::vector<Sent>{{1, chat_msg("@bob", "alice", para("hey"), kFirstId)},
                                 {2, chat_msg("@alice", "alice", para("hey"), kFirstId)}}));
}

TEST_F(RoomTest, DirectMessageToOfflineUser) {
    login(1, "alice");
    room().connect(2, {});  // unauthenticated, empty name: not addressable
    Output out = say(1, "@bob", "hey");
    EXPECT_EQ(all(out),
              (std::vector<Sent>{
                  {1, chat_msg("@bob", "alice", para("hey"), kFirstId)},
                  {1, notice("Could not deliver your message: @bob appears not to be online.")}}));
    Output empty = say(1, "@", "hey");
    EXPECT_EQ(all(empty),
              (std::vector<Sent>{
                  {1, chat_msg("@", "alice", para("hey"), kFirstId + 1)},
                  {1, notice("Could not deliver your message: @ appears not to be online.")}}));
}

TEST_F(RoomTest, DirectMessageMutes) {
    login(1, "alice");
    login(2, "bob");
    act(2, "mute", "alice");
    // bob muted alice: silently dropped.
    EXPECT_EQ(all(say(1, "@bob", "hey")),
              (std::vector<Sent>{{1, chat_msg("@bob", "alice", para("hey"), kFirstId)}}));
    // bob writes to alice whom he muted: notice.
    EXPECT_EQ(all(say(2, "@alice", "yo")),
              (std::vector<Sent>{
                  {2, chat_msg("@alice", "bob", para("yo"), kFirstId + 1)},
                  {2, notice("You have muted alice and so your message has not been sent.")}}));
    // Unmuted: delivered again.
    act(2, "unmute", "alice");
    EXPECT_EQ(to(say(1, "@bob", "back"), 2),
              Frames{chat_msg("@alice", "alice", para("back"), kFirstId + 2)});
}

TEST_F(RoomTest, DirectMessageBlockDropsBothWays) {
    login(1, "alice");
    login(2, "bob");
    act(1, "block", "bob");
    EXPECT_EQ(all(say(1, "@bob", "a")),
              (std::vector<Sent>{{1, chat_msg("@bob", "alice", para("a"), kFirstId)}}));
    EXPECT_EQ(all(say(2, "@alice", "b")),
              (std::vector<Sent>{{2, chat_msg("@alice", "bob", para("b"), kFirstId + 1)}}));
}

TEST_F(RoomTest, OperatorsBypassDirectMessageMutes) {
    login(1, "alice");
    login_claims(2, claims_for("boss", true));
    act(1, "mute", "boss");
    EXPECT_EQ(to(say(2, "@alice", "listen"), 1),
              Frames{chat_msg("@boss", "boss", para("listen"), kFirstId)});
    // An operator who muted the recipient is not stopped either.
    act(2, "mute", "alice");
    EXPECT_EQ(all(say(2, "@alice", "still")),
              (std::vector<Sent>{{2, chat_msg("@alice", "boss", para("still"), kFirstId + 1)},
                                 {1, chat_msg("@boss", "boss", para("still"), kFirstId + 1)}}));
}

TEST_F(RoomTest, DirectMessageToSelfArrivesTwice) {
    login(1, "alice");
    EXPECT_EQ(all(say(1, "@alice", "me")),
              (std::vector<Sent>{{1, chat_msg("@alice", "alice", para("me"), kFirstId)},
                                 {1, chat_msg("@alice", "alice", para("me"), kFirstId)}}));
}

TEST_F(RoomTest, HiddenUsersReceiveDirectMessages) {
    login(1, "alice");
    login_claims(2, claims_for("boss", true));
    set_me(2, 0, "hidden");
    EXPECT_EQ(to(say(1, "@boss", "hi"), 2),
              Frames{chat_msg("@alice", "alice", para("hi"), kFirstId)});
}

// =======================================================================================
// Mutes and blocks on broadcasts (§9)

TEST_F(RoomTest, MuteHidesPublicMessagesAndPresence) {
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    act(1, "mute", "bob");
    act(1, "mute", "dave");  // not online yet
    EXPECT_TRUE(room().who_dirty());
    flush();

    const std::string m = chat_msg("lobby", "bob", para("hi"), kFirstId);
    EXPECT_EQ(all(say(2, "lobby", "hi")), (std::vector<Sent>{{2, m}, {3, m}}));
    // alice's own messages still reach bob.
    EXPECT_EQ(to(say(1, "lobby", "yo"), 2).size(), 1u);

    Output dave = login(4, "dave");
    EXPECT_TRUE(to(dave, 1).empty());
    EXPECT_EQ(to(dave, 3), Frames{presence("dave", kJoined)});

    Output bye = disconnect(2);
    EXPECT_EQ(all(bye),
              (std::vector<Sent>{{3, presence("bob", kExited)}, {4, presence("bob", kExited)}}));

    act(1, "unmute", "dave");
    EXPECT_EQ(to(say(4, "lobby", "x"), 1).size(), 1u);
}

TEST_F(RoomTest, ReactionsAreBroadcastAndMuteFiltered) {
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    act(3, "mute", "alice");
    Output out = send(1, R"({"action":"react","msgID":42,"message":"❤️"})");
    const std::string r = R"({"action":"react","username":"alice","message":"❤️","msgID":42})";
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, r}, {2, r}}));
    // The camera nudge is relayed like any reaction.
    Output nudge = send(2, R"({"action":"react","msgID":-451,"message":"alice"})");
    const std::string n = R"({"action":"react","username":"bob","message":"alice","msgID":-451})";
    EXPECT_EQ(all(nudge), (std::vector<Sent>{{1, n}, {2, n}, {3, n}}));
}

TEST_F(RoomTest, BlockHidesBothWays) {
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    flush();
    EXPECT_TRUE(act(1, "block", "bob").deliveries.empty());
    EXPECT_TRUE(room().who_dirty());

    Output w = flush();
    EXPECT_EQ(to(w, 1), Frames{who({entry("alice"), entry("carol")})});
    EXPECT_EQ(to(w, 2), Frames{who({entry("bob"), entry("carol")})});
    EXPECT_EQ(to(w, 3), Frames{who({entry("alice"), entry("bob"), entry("carol")})});

    const std::string a = chat_msg("lobby", "alice", para("a"), kFirstId);
    EXPECT_EQ(all(say(1, "lobby", "a")), (std::vector<Sent>{{1, a}, {3, a}}));
    const std::string b = chat_msg("lobby", "bob", para("b"), kFirstId + 1);
    EXPECT_EQ(all(say(2, "lobby", "b")), (std::vector<Sent>{{2, b}, {3, b}}));

    // An exit presence has no subject session any more: blocked users see it (§18).
    EXPECT_EQ(all(disconnect(2)),
              (std::vector<Sent>{{1, presence("bob", kExited)}, {3, presence("bob", kExited)}}));
}

TEST_F(RoomTest, BlockedJoinerPresenceIsHidden) {
    login(1, "alice");
    act(1, "block", "bob");
    Output in = login(2, "bob");
    EXPECT_TRUE(to(in, 1).empty());
    EXPECT_EQ(to(in, 2)[2], presence("bob", kJoined));
}

TEST_F(RoomTest, OperatorsCannotBeBlockedByDefault) {
    ASSERT_FALSE(cfg.blockable_admins);
    login(1, "alice");
    login_claims(2, claims_for("boss", true));
    flush();
    EXPECT_EQ(all(act(1, "block", "boss")),
              (std::vector<Sent>{{1, notice("You are not allowed to block a chat operator.")}}));
    EXPECT_FALSE(room().who_dirty());

    // A block made while the operator was offline has no effect either.
    login(3, "carol");
    disconnect(2);
    EXPECT_TRUE(act(3, "block", "boss").deliveries.empty());  // offline: accepted silently
    login_claims(2, claims_for("boss", true));
    const std::string m = chat_msg("lobby", "boss", para("hi"), kFirstId);
    EXPECT_EQ(all(say(2, "lobby", "hi")), (std::vector<Sent>{{1, m}, {2, m}, {3, m}}));
    Output w = flush();
    EXPECT_EQ(to(w, 3),
              Frames{who({entry("alice"), claims_entry("boss", 0, "true"), entry("carol")})});
}

TEST_F(RoomTest, BlockableAdminsLetsUsersBlockOperators) {
    cfg.blockable_admins = true;
    login(1, "alice");
    act(1, "block", "boss");  // offline: accepted
    login_claims(2, claims_for("boss", true));
    const std::string m = chat_msg("lobby", "boss", para("hi"), kFirstId);
    EXPECT_EQ(all(say(2, "lobby", "hi")), (std::vector<Sent>{{2, m}}));
    Output w = flush();
    EXPECT_EQ(to(w, 1), Frames{who({entry("alice")})});
    EXPECT_EQ(to(w, 2), Frames{who({claims_entry("boss", 0, "true")})});
    // Blocking an online operator is still refused with the notice.
    login(3, "carol");
    EXPECT_EQ(all(act(3, "block", "boss")),
              (std::vector<Sent>{{3, notice("You are not allowed to block a chat operator.")}}));
}

TEST_F(RoomTest, BlocklistBeforeLoginMutesAndBlocks) {
    login(2, "bob");
    say(2, "lobby", "earlier");
    room().connect(1, {});
    EXPECT_TRUE(send(1, R"({"action":"blocklist","usernames":["bob"]})").deliveries.empty());
    Output in = send(1, R"({"action":"login","username":"alice"})");
    // The echo skips bob's message; bob does not see alice join.
    EXPECT_EQ(all(in),
              (std::vector<Sent>{
                  {1, me("alice")}, {1, R"({"action":"echo"})"}, {1, presence("alice", kJoined)}}));
    Output w = flush();
    EXPECT_EQ(to(w, 1), Frames{who({entry("alice")})});
    EXPECT_EQ(to(w, 2), Frames{who({entry("bob")})});
    EXPECT_EQ(to(say(2, "lobby", "x"), 1), Frames{});
    EXPECT_EQ(to(say(1, "lobby", "y"), 2), Frames{});
}

// =======================================================================================
// Who list (§10)

TEST_F(RoomTest, WhoListIsSortedByBytes) {
    login(1, "bob");
    login(2, "alice");
    login(3, "Zed");
    login(4, "Alice");
    Output w = flush();
    const std::string list = who({entry("Alice"), entry("Zed"), entry("alice"), entry("bob")});
    EXPECT_EQ(all(w), (std::vector<Sent>{{4, list}, {3, list}, {2, list}, {1, list}}));
}

TEST_F(RoomTest, FlushWithNobodyOnlineSendsNothing) {
    room().connect(1, {});
    EXPECT_TRUE(flush().deliveries.empty());
}

TEST_F(RoomTest, WhoEntryCarriesClaims) {
    auth::Claims c = claims_for("alice", true, true);
    c.nick = "Alice <3";
    c.img = "/static/a.png";
    c.url = "https://example.com/u/alice";
    c.emoji = "🤖";
    c.gender = "f";
    room().connect(1, {});
    send(1, R"({"action":"login","jwt":")" + token(c) + R"(","dnd":true})");
    Output w = flush();
    EXPECT_EQ(to(w, 1),
              Frames{who({R"({"username":"alice","nickname":"Alice \u003c3","status":"online",)"
                          R"("video":0,"dnd":true,"loginAt":)" +
                          std::to_string(kNowUnix) +
                          R"(,"op":true,"vip":true,"avatar":"/static/a.png",)"
                          R"("profileURL":"https://example.com/u/alice","emoji":"🤖",)"
                          R"("gender":"f"})"})});
}

TEST_F(RoomTest, HiddenOperatorIsAbsentEvenFromOwnList) {
    login(1, "alice");
    login_claims(2, claims_for("boss", true));
    flush();
    Output hide = set_me(2, 0, "hidden");
    EXPECT_EQ(all(hide),
              (std::vector<Sent>{{1, presence("boss", kExited)}, {2, presence("boss", kExited)}}));
    Output w = flush();
    const std::string list = who({entry("alice")});
    EXPECT_EQ(all(w), (std::vector<Sent>{{1, list}, {2, list}}));

    // Alone in the room, the hidden operator gets a list without the whoList key.
    disconnect(1);
    EXPECT_EQ(all(flush()), (std::vector<Sent>{{2, R"({"action":"who"})"}}));
}

TEST_F(RoomTest, MuteBootAndInviteChangeTheVideoOthersSee) {
    login(1, "alice");
    login(2, "bob");
    login_claims(3, claims_for("boss", true));
    login(4, "carol");
    login(5, "dave");
    set_me(1, 1 | 32);
    act(1, "mute", "bob");
    act(1, "boot", "boss");
    act(1, "boot", "dave");
    send(1, R"({"action":"video-invite","usernames":["carol","dave"]})");
    Output w = flush();
    auto list_with_alice = [](std::int64_t v) {
        return who({entry("alice", v), entry("bob"), claims_entry("boss", 0, "true"),
                    entry("carol"), entry("dave")});
    };
    EXPECT_EQ(to(w, 1), Frames{list_with_alice(33)});        // own flags, untouched
    EXPECT_EQ(to(w, 2), Frames{list_with_alice(0)});         // muted: camera looks off
    EXPECT_EQ(to(w, 3), Frames{list_with_alice(1)});         // operator: MutualOpen toggled
    EXPECT_EQ(to(w, 4), Frames{list_with_alice(33 | 128)});  // invited
    EXPECT_EQ(to(w, 5), Frames{list_with_alice(0)});         // booted beats invited

    // XOR, not clear: without MutualOpen the operator sees the bit appear.
    set_me(1, 1);
    Output w1 = flush();
    EXPECT_EQ(to(w1, 2), Frames{list_with_alice(0)});
    EXPECT_EQ(to(w1, 3), Frames{list_with_alice(33)});
    EXPECT_EQ(to(w1, 4), Frames{list_with_alice(1 | 128)});

    act(1, "unboot", "boss");
    act(1, "unmute", "bob");
    Output w2 = flush();
    EXPECT_EQ(to(w2, 2)[0], list_with_alice(1));
    EXPECT_EQ(to(w2, 3)[0], list_with_alice(1));
}

TEST_F(RoomTest, OnlyVipCamerasAreZeroedForNonVipViewers) {
    login_claims(1, claims_for("vera", false, true));
    login_claims(2, claims_for("vince", false, true));
    login_claims(3, claims_for("boss", true));
    login(4, "guest");
    set_me(1, 1 | 64);
    Output w = flush();
    auto list = [](std::int64_t v) {
        return who({claims_entry("boss", 0, "true"), entry("guest"),
                    claims_entry("vera", v, "false,\"vip\":true"),
                    claims_entry("vince", 0, "false,\"vip\":true")});
    };
    EXPECT_EQ(to(w, 1), Frames{list(65)});
    EXPECT_EQ(to(w, 2), Frames{list(65)});
    EXPECT_EQ(to(w, 3), Frames{list(0)});  // operators are not exempt
    EXPECT_EQ(to(w, 4), Frames{list(0)});
}

TEST_F(RoomTest, NonVipWithOnlyVipFlagSeesOwnFlags) {
    login(1, "alice");
    login(2, "bob");
    set_me(1, 1 | 64);  // the page would not, but the server stores it verbatim
    Output w = flush();
    EXPECT_EQ(to(w, 1), Frames{who({entry("alice", 65), entry("bob")})});
    EXPECT_EQ(to(w, 2), Frames{who({entry("alice", 0), entry("bob")})});
}

TEST_F(RoomTest, InviteDoesNotLiftOnlyVip) {
    login_claims(1, claims_for("vera", false, true));
    login(2, "guest");
    set_me(1, 1 | 64);
    send(1, R"({"action":"video-invite","usernames":["guest"]})");
    EXPECT_EQ(to(flush(), 2),
              Frames{who({entry("guest"), claims_entry("vera", 0, "false,\"vip\":true")})});
}

TEST_F(RoomTest, MutuallySecretHidesVipFromNonVips) {
    cfg.vip.mutually_secret = true;
    login_claims(1, claims_for("vera", false, true));
    login_claims(2, claims_for("vince", false, true));
    login_claims(3, claims_for("boss", true));
    login(4, "guest");
    login(5, "mutee");
    // Relations make both vera's and mutee's lists personalised, so both code paths (shared
    // and per-recipient lists) are checked.
    act(5, "mute", "vera");
    act(1, "mute", "mutee");
    Output w = flush();
    const std::string for_vips = who({claims_entry("boss", 0, "true"), entry("guest"),
                                      entry("mutee"), claims_entry("vera", 0, "false,\"vip\":true"),
                                      claims_entry("vince", 0, "false,\"vip\":true")});
    const std::string for_others =
        who({claims_entry("boss", 0, "true"), entry("guest"), entry("mutee"),
             claims_entry("vera", 0, "false"), claims_entry("vince", 0, "false")});
    EXPECT_EQ(to(w, 1), Frames{for_vips});
    EXPECT_EQ(to(w, 2), Frames{for_vips});
    EXPECT_EQ(to(w, 3), Frames{for_others});
    EXPECT_EQ(to(w, 4), Frames{for_others});
    EXPECT_EQ(to(w, 5), Frames{for_others});

    // With a camera, the personalised path must also hide the key.
    set_me(1, 1);
    Output w2 = flush();
    EXPECT_EQ(to(w2, 5)[0],
              who({claims_entry("boss", 0, "true"), entry("guest"), entry("mutee"),
                   claims_entry("vera", 0, "false"), claims_entry("vince", 0, "false")}));
    EXPECT_EQ(to(w2, 4)[0],
              who({claims_entry("boss", 0, "true"), entry("guest"), entry("mutee"),
                   claims_entry("vera", 1, "false"), claims_entry("vince", 0, "false")}));
}

TEST_F(RoomTest, VipKeyShownToAllWithoutMutuallySecret) {
    login_claims(1, claims_for("vera", false, true));
    login(2, "guest");
    EXPECT_EQ(to(flush(), 2),
              Frames{who({entry("guest"), claims_entry("vera", 0, "false,\"vip\":true")})});
}

// =======================================================================================
// me (§5.4)

TEST_F(RoomTest, MeReplacesVideoStatusAndDnd) {
    login(1, "alice");
    login(2, "bob");
    flush();
    Output out = set_me(1, 5, "brb", true);
    EXPECT_TRUE(out.deliveries.empty());
    EXPECT_TRUE(room().who_dirty());
    EXPECT_EQ(to(flush(), 2),
              Frames{who({R"({"username":"alice","status":"brb","video":5,"dnd":true,"loginAt":)" +
                              std::to_string(kNowUnix) + R"(,"op":false})",
                          entry("bob")})});
    // Missing fields become zero values.
    send(1, R"({"action":"me"})");
    EXPECT_EQ(to(flush(), 2), Frames{who({entry("alice", 0, ""), entry("bob")})});
}

TEST_F(RoomTest, HiddenIsForOperatorsOnly) {
    login(1, "alice");
    login(2, "bob");
    flush();
    Output out = set_me(1, 0, "hidden");
    EXPECT_TRUE(out.deliveries.empty());
    EXPECT_EQ(to(flush(), 2), Frames{who({entry("alice", 0, "away"), entry("bob")})});
}

TEST_F(RoomTest, OperatorLeavingHiddenAnnouncesAJoin) {
    login(1, "alice");
    login_claims(2, claims_for("boss", true));
    set_me(2, 0, "hidden");
    EXPECT_TRUE(set_me(2, 0, "hidden").deliveries.empty());  // no change, no presence
    Output back = set_me(2, 0, "online");
    EXPECT_EQ(all(back),
              (std::vector<Sent>{{1, presence("boss", kJoined)}, {2, presence("boss", kJoined)}}));
    EXPECT_EQ(to(flush(), 1), Frames{who({entry("alice"), claims_entry("boss", 0, "true")})});
}

TEST_F(RoomTest, MutersDoNotSeeHidePresence) {
    login(1, "alice");
    login_claims(2, claims_for("boss", true));
    act(1, "mute", "boss");
    EXPECT_EQ(all(set_me(2, 0, "hidden")), (std::vector<Sent>{{2, presence("boss", kExited)}}));
}

// =======================================================================================
// Moderation rules (§15)

TEST_F(RoomTest, ConfigNoBroadcastRuleCutsTheCamera) {
    cfg.moderation_rules.push_back({.username = "alice", .no_broadcast = true});
    login(1, "alice");
    login(2, "bob");
    Output out = set_me(1, 1 | 4);
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, R"({"action":"cut"})"},
                                           {1, notice(cfg.strings.mod_rule_error_no_broadcast)}}));
    EXPECT_EQ(to(flush(), 2), Frames{who({entry("alice", 0), entry("bob")})});
    // Without the Active bit the rule does nothing.
    EXPECT_TRUE(set_me(1, 4).deliveries.empty());
    EXPECT_EQ(to(flush(), 2), Frames{who({entry("alice", 4), entry("bob")})});
    // bob has no rule.
    EXPECT_TRUE(set_me(2, 1).deliveries.empty());
}

TEST_F(RoomTest, JwtNoBroadcastAndNoVideoRulesCutTheCamera) {
    auto c = claims_for("alice");
    c.rules = {"nobroadcast"};
    login_claims(1, c);
    auto d = claims_for("dan");
    d.rules = {"novideo"};
    login_claims(2, d);
    const std::vector<std::string> cut{R"({"action":"cut"})",
                                       notice(cfg.strings.mod_rule_error_no_broadcast)};
    EXPECT_EQ(to(set_me(1, 1), 1), cut);
    EXPECT_EQ(to(set_me(2, 1), 2), cut);
}

TEST_F(RoomTest, RedcamRuleForcesNsfwAndReflectsMe) {
    auto c = claims_for("alice");
    c.rules = {"redcam"};
    login_claims(1, c);
    login(2, "bob");
    Output out = set_me(1, 1);
    EXPECT_EQ(all(out),
              (std::vector<Sent>{{1, notice(cfg.strings.mod_rule_error_camera_always_nsfw)},
                                 {1, me("alice", 3)}}));
    EXPECT_EQ(to(flush(), 2), Frames{who({claims_entry("alice", 3, "false"), entry("bob")})});
    // Already red: nothing to say.
    EXPECT_TRUE(set_me(1, 3).deliveries.empty());
}

TEST_F(RoomTest, NoBroadcastAndRedcamTogetherLeaveVideoTwo) {
    cfg.moderation_rules.push_back(
        {.username = "alice", .camera_always_nsfw = true, .no_broadcast = true});
    login(1, "alice");
    login(2, "bob");
    Output out = set_me(1, 1);
    EXPECT_EQ(all(out),
              (std::vector<Sent>{{1, R"({"action":"cut"})"},
                                 {1, notice(cfg.strings.mod_rule_error_no_broadcast)},
                                 {1, notice(cfg.strings.mod_rule_error_camera_always_nsfw)},
                                 {1, me("alice", 2)}}));
    EXPECT_EQ(to(flush(), 2), Frames{who({entry("alice", 2), entry("bob")})});
}

// =======================================================================================
// Cameras: open, relays, boot (§5.5–§5.7, §11)

// Checks a successful open of `target` (session t) by `viewer` (session v) and returns the
// secret.
std::string expect_open(const Output& out, SessionId v, std::string_view viewer, SessionId t,
                        std::string_view target, std::size_t notes = 0) {
    const auto frames_v = to(out, v);
    const auto frames_t = to(out, t);
    EXPECT_EQ(frames_v.size(), notes + 1);
    EXPECT_EQ(frames_t.size(), 1u);
    if (frames_v.size() != notes + 1 || frames_t.size() != 1) return {};
    const bj::value ring = bj::parse(frames_t[0]);
    const std::string secret(ring.at("openSecret").as_string());
    EXPECT_EQ(secret.size(), 16u);
    for (char c : secret) EXPECT_TRUE(c >= 'a' && c <= 'z') << secret;
    EXPECT_EQ(frames_t[0], R"({"action":"ring","username":")" + std::string(viewer) +
                               R"(","openSecret":")" + secret + R"("})");
    EXPECT_EQ(frames_v.back(), R"({"action":"open","username":")" + std::string(target) +
                                   R"(","openSecret":")" + secret + R"("})");
    // The ring comes before the open.
    EXPECT_EQ(out.deliveries.back().to, v);
    return secret;
}

std::string refused(std::string_view reason) {
    return notice("Could not open that video: " + std::string(reason));
}

const std::string kNoPermission = "You do not have permission to view that camera.";

TEST_F(RoomTest, OpenSuccessSendsRingAndOpenWithOneSecret) {
    login(1, "alice");
    login(2, "bob");
    set_me(2, 1);
    Output out = act(1, "open", "bob");
    const std::string s1 = expect_open(out, 1, "alice", 2, "bob");
    const std::string s2 = expect_open(act(1, "open", "bob"), 1, "alice", 2, "bob");
    EXPECT_NE(s1, s2);
}

TEST_F(RoomTest, OpenRefusals) {
    login(1, "alice");
    login(2, "bob");
    login_claims(3, claims_for("boss", true));
    login_claims(4, claims_for("vera", false, true));

    EXPECT_EQ(all(act(1, "open", "nobody")),
              (std::vector<Sent>{{1, notice("Could not open that video: nobody appears to be "
                                            "offline.")}}));
    // Rule 1.
    EXPECT_EQ(all(act(1, "open", "bob")),
              (std::vector<Sent>{{1, refused("Their video is not currently enabled.")}}));
    // Rule 2, operators included.
    set_me(2, 1 | 16);
    const std::string mutual = refused(
        "bob has requested that you should share your own camera too before opening "
        "theirs.");
    EXPECT_EQ(all(act(1, "open", "bob")), (std::vector<Sent>{{1, mutual}}));
    EXPECT_EQ(to(act(3, "open", "bob"), 3), Frames{mutual});
    set_me(1, 1);
    expect_open(act(1, "open", "bob"), 1, "alice", 2, "bob");
    // Rule 3: VIP and operators pass.
    set_me(2, 1 | 64);
    EXPECT_EQ(all(act(1, "open", "bob")), (std::vector<Sent>{{1, refused(kNoPermission)}}));
    expect_open(act(3, "open", "bob"), 3, "boss", 2, "bob");
    expect_open(act(4, "open", "bob"), 4, "vera", 2, "bob");
}

TEST_F(RoomTest, InvitationLiftsMutualAndVipRulesOnly) {
    login(1, "alice");
    login(2, "bob");
    set_me(2, 1 | 16 | 64);
    send(2, R"({"action":"video-invite","usernames":["alice"]})");
    expect_open(act(1, "open", "bob"), 1, "alice", 2, "bob");
    act(2, "boot", "alice");
    EXPECT_EQ(all(act(1, "open", "bob")), (std::vector<Sent>{{1, refused(kNoPermission)}}));
}

TEST_F(RoomTest, OpenRefusedAfterMuteBootOrBlockExceptForOperators) {
    login(1, "alice");
    login(2, "bob");
    login(5, "carol");
    login_claims(3, claims_for("boss", true));
    login_claims(4, claims_for("chief", true));
    set_me(2, 1);

    act(2, "mute", "alice");
    EXPECT_EQ(all(act(1, "open", "bob")), (std::vector<Sent>{{1, refused(kNoPermission)}}));
    act(2, "unmute", "alice");
    act(2, "boot", "alice");
    EXPECT_EQ(all(act(1, "open", "bob")), (std::vector<Sent>{{1, refused(kNoPermission)}}));
    act(2, "unboot", "alice");
    expect_open(act(1, "open", "bob"), 1, "alice", 2, "bob");
    act(5, "block", "bob");  // the viewer's block counts too
    EXPECT_EQ(all(act(5, "open", "bob")), (std::vector<Sent>{{5, refused(kNoPermission)}}));

    // Operators pass, with a note.
    act(2, "boot", "boss");
    Output booted_op = act(3, "open", "bob");
    EXPECT_EQ(to(booted_op, 3).front(),
              notice("Note: bob had booted you off their camera before, and won't be notified "
                     "of your watch."));
    expect_open(booted_op, 3, "boss", 2, "bob", 1);
    act(2, "mute", "chief");
    Output muted_op = act(4, "open", "bob");
    EXPECT_EQ(to(muted_op, 4).front(),
              notice("Note: bob had muted you before, and won't be notified of your watch."));
    expect_open(muted_op, 4, "chief", 2, "bob", 1);
}

TEST_F(RoomTest, NoVideoRuleRefusesOpen) {
    auto c = claims_for("alice");
    c.rules = {"novideo"};
    login_claims(1, c);
    EXPECT_EQ(all(act(1, "open", "nobody")),
              (std::vector<Sent>{{1, notice(cfg.strings.mod_rule_error_no_video)}}));
}

TEST_F(RoomTest, RelaysCarryTheSenderName) {
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(all(send(1, R"({"action":"candidate","username":"bob","candidate":"{\"c\":1}"})")),
              (std::vector<Sent>{
                  {2, R"({"action":"candidate","username":"alice","candidate":"{\"c\":1}"})"}}));
    EXPECT_EQ(
        all(send(1, R"({"action":"sdp","username":"bob","description":"v=0"})")),
        (std::vector<Sent>{{2, R"({"action":"sdp","username":"alice","description":"v=0"})"}}));
    EXPECT_EQ(all(act(2, "watch", "alice")),
              (std::vector<Sent>{{1, R"({"action":"watch","username":"bob"})"}}));
    EXPECT_EQ(all(act(2, "unwatch", "alice")),
              (std::vector<Sent>{{1, R"({"action":"unwatch","username":"bob"})"}}));
    // Unknown target: dropped.
    EXPECT_TRUE(act(1, "watch", "nobody").deliveries.empty());
    EXPECT_TRUE(act(1, "watch", "").deliveries.empty());
}

TEST_F(RoomTest, RelaysCarryOnlyTheirOwnField) {
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(to(send(1, R"({"action":"watch","username":"bob","candidate":"c",)"
                         R"("description":"d","message":"m"})"),
                 2),
              Frames{R"({"action":"watch","username":"alice"})"});
    EXPECT_EQ(to(send(1, R"({"action":"candidate","username":"bob","candidate":"c",)"
                         R"("description":"d"})"),
                 2),
              Frames{R"({"action":"candidate","username":"alice","candidate":"c"})"});
    EXPECT_EQ(to(send(1, R"({"action":"sdp","username":"bob","candidate":"c",)"
                         R"("description":"d"})"),
                 2),
              Frames{R"({"action":"sdp","username":"alice","description":"d"})"});
}

TEST_F(RoomTest, BootAndMuteOfAnOperatorNotifyThem) {
    login(1, "alice");
    login(2, "bob");
    login_claims(3, claims_for("boss", true));
    flush();
    EXPECT_EQ(all(act(1, "boot", "boss")),
              (std::vector<Sent>{{3, notice("alice has booted you off of their camera!")}}));
    EXPECT_TRUE(room().who_dirty());
    EXPECT_TRUE(act(1, "unboot", "boss").deliveries.empty());
    EXPECT_EQ(
        all(act(1, "mute", "boss")),
        (std::vector<Sent>{{3, notice("alice has muted you! Your new mute status is: true")}}));
    EXPECT_EQ(
        all(act(1, "unmute", "boss")),
        (std::vector<Sent>{{3, notice("alice has muted you! Your new mute status is: false")}}));
    // Non-operators are not told.
    EXPECT_TRUE(act(1, "boot", "bob").deliveries.empty());
    EXPECT_TRUE(act(1, "mute", "bob").deliveries.empty());
    // Nor is anyone told of a boot sent before login.
    room().connect(4, {});
    EXPECT_TRUE(act(4, "boot", "boss").deliveries.empty());
    EXPECT_TRUE(act(4, "mute", "boss").deliveries.empty());
}

// =======================================================================================
// Take-backs and echo (§5.12, §12, features.md §1)

TEST_F(RoomTest, TakebackOwnership) {
    login(1, "alice");
    login(2, "bob");
    login_claims(3, claims_for("boss", true));
    act(3, "mute", "alice");  // take-backs are not mute-filtered
    say(1, "lobby", "oops");  // kFirstId
    say(2, "@alice", "dm");   // kFirstId + 1

    const std::string take = R"({"action":"takeback","msgID":)" + std::to_string(kFirstId) + "}";
    EXPECT_EQ(all(send(2, take)),
              (std::vector<Sent>{{2, notice("That is not your message to take back.")}}));
    const std::string bcast = R"({"action":"takeback","msgID":)" + std::to_string(kFirstId) + "}";
    EXPECT_EQ(all(send(1, take)), (std::vector<Sent>{{1, bcast}, {2, bcast}, {3, bcast}}));

    // Own DMs may be taken back too.
    const std::string take_dm =
        R"({"action":"takeback","msgID":)" + std::to_string(kFirstId + 1) + "}";
    EXPECT_EQ(to(send(2, take_dm), 1), Frames{take_dm});

    // Operators may take back anything, even ids that never existed.
    EXPECT_EQ(to(send(3, R"({"action":"takeback","msgID":5})"), 2),
              Frames{R"({"action":"takeback","msgID":5})"});
    EXPECT_EQ(all(send(1, R"({"action":"takeback","msgID":5})")),
              (std::vector<Sent>{{1, notice("That is not your message to take back.")}}));
}

TEST_F(RoomTest, TakebackRemovesFromEcho) {
    login(1, "alice");
    say(1, "lobby", "one");
    say(1, "lobby", "two");
    send(1, R"({"action":"takeback","msgID":)" + std::to_string(kFirstId) + "}");
    Output in = login(2, "bob");
    EXPECT_EQ(to(in, 2)[1],
              R"({"action":"echo","messages":[)" +
                  echo_entry("lobby", "alice", para("two"), kFirstId + 1, "2025-07-02T17:54:20Z") +
                  "]}");
}

TEST_F(RoomTest, EchoReplaysRecentMessagesPerChannel) {
    cfg.public_channels[0].echo_messages_on_join = 2;  // lobby
    cfg.public_channels[1].echo_messages_on_join = 1;  // offtopic
    cfg.public_channels[2].echo_messages_on_join = 5;  // vip
    login(1, "alice");
    login(2, "bob");
    say(1, "offtopic", "o1", kNow);       // kFirstId
    say(1, "lobby", "l1", kNow + 1s);     // +1 (pushed out)
    say(2, "lobby", "l2", kNow + 2s);     // +2
    say(1, "lobby", "l3", kNow + 3s);     // +3
    say(2, "offtopic", "o2", kNow + 4s);  // +4
    say(1, "vip", "v1", kNow + 5s);       // +5
    say(1, "@bob", "dm", kNow + 6s);      // +6: DMs are never echoed
    say(1, "unknown", "u", kNow + 7s);    // +7: unknown channels neither

    auto ts = [](int s) { return "2025-07-02T17:54:2" + std::to_string(s) + "Z"; };
    const std::string lobby = echo_entry("lobby", "bob", para("l2"), kFirstId + 2, ts(2)) + "," +
                              echo_entry("lobby", "alice", para("l3"), kFirstId + 3, ts(3));
    const std::string offtopic = echo_entry("offtopic", "bob", para("o2"), kFirstId + 4, ts(4));
    const std::string vip = echo_entry("vip", "alice", para("v1"), kFirstId + 5, ts(5));

    // A guest: lobby then offtopic (config order), no VIP channel.
    EXPECT_EQ(to(login(3, "carol", kNow + 10s), 3)[1],
              R"({"action":"echo","messages":[)" + lobby + "," + offtopic + "]}");
    // A VIP and an operator get the VIP channel too.
    EXPECT_EQ(to(login_claims(4, claims_for("vera", false, true), kNow + 10s), 4)[1],
              R"({"action":"echo","messages":[)" + lobby + "," + offtopic + "," + vip + "]}");
    EXPECT_EQ(to(login_claims(5, claims_for("boss", true), kNow + 10s), 5)[1],
              R"({"action":"echo","messages":[)" + lobby + "," + offtopic + "," + vip + "]}");
    // Senders the joiner muted (or blocked) before login are skipped.
    room().connect(6, {});
    send(6, R"({"action":"mute","username":"bob"})");
    EXPECT_EQ(to(send(6, R"({"action":"login","username":"dave"})", kNow + 10s), 6)[1],
              R"({"action":"echo","messages":[)" +
                  echo_entry("lobby", "alice", para("l3"), kFirstId + 3, ts(3)) + "]}");
}

// =======================================================================================
// Ping (§16)

TEST_F(RoomTest, PingWithoutClaimsIsPlain) {
    room().connect(1, {});
    EXPECT_EQ(all(ping(1)), (std::vector<Sent>{{1, R"({"action":"ping"})"}}));
    login(2, "guest");
    EXPECT_EQ(all(ping(2)), (std::vector<Sent>{{2, R"({"action":"ping"})"}}));
}

TEST_F(RoomTest, PingRefreshesTheToken) {
    auto c = claims_for("alice", true, false);
    c.nick = "Al";
    c.exp = kNowUnix + 30;
    login_claims(1, c);
    const Time later = kNow + 100s;
    Output out = ping(1, later);
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(out.deliveries[0].to, 1u);
    const std::string& frame = *out.deliveries[0].payload;
    const std::string prefix = R"({"action":"ping","jwt":")";
    const std::string suffix =
        R"(","jwtRules":{"IsNoBroadcastRule":false,"IsNoDarkVideoRule":false,)"
        R"("IsNoImageRule":false,"IsNoVideoRule":false,"IsRedCamRule":false}})";
    ASSERT_TRUE(frame.starts_with(prefix)) << frame;
    ASSERT_TRUE(frame.ends_with(suffix)) << frame;
    const std::string jwt =
        frame.substr(prefix.size(), frame.size() - prefix.size() - suffix.size());
    const std::int64_t later_unix = kNowUnix + 100;
    auto v = auth::verify(jwt, kSecret, later_unix);
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_EQ(v.claims.sub, "alice");
    EXPECT_TRUE(v.claims.op);
    EXPECT_EQ(v.claims.nick, "Al");
    EXPECT_EQ(v.claims.exp, later_unix + 300);
    EXPECT_EQ(v.claims.iat, later_unix);
    EXPECT_EQ(v.claims.nbf, later_unix);
    EXPECT_FALSE(auth::verify(jwt, "wrong", later_unix).ok);
    EXPECT_FALSE(auth::verify(jwt, kSecret, later_unix + 301).ok);
}

TEST_F(RoomTest, PingCarriesJwtRules) {
    auto c = claims_for("alice");
    c.rules = {"novideo", "redcam", "nodvd", "noimage"};
    login_claims(1, c);
    auto d = claims_for("bob");
    d.rules = {"nobroadcast", "whatever"};
    login_claims(2, d);
    auto rules_of = [&](SessionId id) {
        Output out = ping(id);
        return bj::serialize(bj::parse(*out.deliveries.at(0).payload).as_object().at("jwtRules"));
    };
    EXPECT_EQ(rules_of(1), R"({"IsNoBroadcastRule":true,"IsNoDarkVideoRule":true,)"
                           R"("IsNoImageRule":true,"IsNoVideoRule":true,"IsRedCamRule":true})");
    EXPECT_EQ(rules_of(2), R"({"IsNoBroadcastRule":true,"IsNoDarkVideoRule":false,)"
                           R"("IsNoImageRule":false,"IsNoVideoRule":false,"IsRedCamRule":false})");
}

// =======================================================================================
// Reboot grace (§19)

TEST_F(RoomTest, RebootGraceSuppressesWhoAndPresence) {
    Output a = login(1, "alice", T0 + 5s);
    EXPECT_EQ(all(a), (std::vector<Sent>{{1, me("alice")}, {1, R"({"action":"echo"})"}}));
    EXPECT_FALSE(room().who_dirty());
    Output b = login(2, "bob", T0 + 10s);
    EXPECT_TRUE(to(b, 1).empty());
    EXPECT_EQ(to(b, 2), (Frames{me("bob"), R"({"action":"echo"})"}));
    set_me(1, 1, "online", false, T0 + 11s);
    EXPECT_FALSE(room().who_dirty());

    Output t;
    room().tick(T0 + 15s, t);
    EXPECT_FALSE(room().who_dirty());
    room().tick(T0 + 16s, t);
    EXPECT_TRUE(t.deliveries.empty());
    EXPECT_TRUE(room().who_dirty());
    Output w = flush();
    const std::string list = who(
        {entry("alice", 1, "online", kStartUnix + 5), entry("bob", 0, "online", kStartUnix + 10)});
    EXPECT_EQ(all(w), (std::vector<Sent>{{1, list}, {2, list}}));
    // Only once.
    room().tick(T0 + 17s, t);
    EXPECT_FALSE(room().who_dirty());

    // Chat works during the grace; presence is still off until 30 s.
    EXPECT_EQ(to(say(1, "lobby", "hi", T0 + 20s), 2).size(), 1u);
    EXPECT_TRUE(disconnect(2, T0 + 25s).deliveries.empty());
    EXPECT_TRUE(room().who_dirty());
    flush();
    Output c = login(3, "carol", T0 + 29s);
    EXPECT_TRUE(to(c, 1).empty());
    Output d = login(4, "dave", T0 + 30s);
    EXPECT_EQ(to(d, 1), Frames{presence("dave", kJoined)});
}

TEST_F(RoomTest, GraceRoundWithNobodyOnlineStaysClean) {
    Output t;
    room().tick(T0 + 20s, t);
    EXPECT_FALSE(room().who_dirty());
    EXPECT_TRUE(t.deliveries.empty());
}

// =======================================================================================
// Statistics and disconnects (api.md §4, §18)

TEST_F(RoomTest, StatisticsCountVisibleUsersAndCameras) {
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    login_claims(4, claims_for("boss", true));
    room().connect(5, {});
    set_me(1, 1);
    set_me(2, 3);
    set_me(3, 2);  // NSFW without Active: no camera
    set_me(4, 1, "hidden");
    const auto st = room().statistics();
    EXPECT_EQ(st.user_count, 3);
    EXPECT_EQ(st.usernames, (std::vector<std::string>{"alice", "bob", "carol"}));
    EXPECT_EQ(st.blue_cameras, 1);
    EXPECT_EQ(st.red_cameras, 1);
}

TEST_F(RoomTest, DisconnectAnnouncesExit) {
    login(1, "alice");
    login(2, "bob");
    flush();
    Output out = disconnect(2);
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, presence("bob", kExited)}}));
    EXPECT_TRUE(room().who_dirty());
    EXPECT_EQ(all(flush()), (std::vector<Sent>{{1, who({entry("alice")})}}));
    EXPECT_EQ(room().connection_count(), 1u);
    EXPECT_EQ(room().online_count(), 1u);
    EXPECT_FALSE(room().is_authenticated(2));
    EXPECT_EQ(room().username_of(2), "");
}

TEST_F(RoomTest, SilentDisconnects) {
    login(1, "alice");
    login_claims(2, claims_for("boss", true));
    room().connect(3, {});
    set_me(2, 0, "hidden");
    flush();
    EXPECT_TRUE(disconnect(3).deliveries.empty());
    EXPECT_FALSE(room().who_dirty());
    EXPECT_TRUE(disconnect(2).deliveries.empty());
    EXPECT_EQ(room().online_count(), 1u);
}

TEST_F(RoomTest, NameIsFreeAfterDisconnect) {
    login(1, "alice");
    disconnect(1);
    EXPECT_EQ(to(login(2, "alice"), 2).front(), me("alice"));
}

}  // namespace

// =======================================================================================
// Operator commands (commands.md)

class CommandTest : public RoomTest {
  protected:
    // An operator "boss" (session 1) and two guests, alice (2) and bob (3).
    void SetUp() override {
        login_claims(1, claims_for("boss", true));
        login(2, "alice");
        login(3, "bob");
        flush();
    }
    Output cmd(std::string_view text, SessionId from = 1, Time now = kNow) {
        return say(from, "lobby", text, now);
    }
};

TEST_F(CommandTest, NonOperatorsPostCommandsAsChat) {
    EXPECT_EQ(to(cmd("/kick bob", 2), 3),
              Frames{chat_msg("lobby", "alice", para("/kick bob"), kFirstId)});
    EXPECT_TRUE(room().is_authenticated(3));
}

TEST_F(CommandTest, UnknownOrMalformedCommandsArePostedAsChat) {
    EXPECT_EQ(to(cmd("/dance"), 2), Frames{chat_msg("lobby", "boss", para("/dance"), kFirstId)});
    // An unbalanced quote is not a command either.
    EXPECT_EQ(to(cmd("/kick \"bob"), 2),
              Frames{chat_msg("lobby", "boss", go_escape("<p>/kick &#34;bob</p>"), kFirstId + 1)});
}

TEST_F(CommandTest, KickRunsTheKickSequence) {
    Output out = cmd("/kick @bob");
    const auto kicked = presence("bob", "has been kicked from the room!");
    EXPECT_EQ(to(out, 3), (Frames{kicked, notice("You have been kicked from the chat room by boss"),
                                  std::string(kDisconnect)}));
    EXPECT_EQ(to(out, 2), Frames{kicked});
    EXPECT_EQ(to(out, 1), (Frames{kicked, notice("bob has been kicked from the room")}));
    EXPECT_FALSE(room().is_authenticated(3));
    EXPECT_TRUE(room().who_dirty());
    // The kicked socket closing later announces nothing more.
    EXPECT_TRUE(disconnect(3).deliveries.empty());
}

TEST_F(CommandTest, KickRepliesForMissingTargetsAndSelf) {
    EXPECT_EQ(all(cmd("/kick nobody")),
              (std::vector<Sent>{{1, notice("/kick: username not found: nobody")}}));
    EXPECT_EQ(all(cmd("/kick boss")),
              (std::vector<Sent>{{1, notice("/kick: did you really mean to kick yourself?")}}));
    const auto usage = all(cmd("/kick"));
    ASSERT_EQ(usage.size(), 1u);
    EXPECT_NE(usage[0].second.find("Usage: \\u003ccode\\u003e/kick username"), std::string::npos)
        << usage[0].second;
}

TEST_F(CommandTest, QuotedNamesWithSpaces) {
    login(4, "carol");
    login(5, "carol");  // becomes "carol 2"
    Output out = cmd("/kick \"carol 2\"");
    EXPECT_EQ(to(out, 1).back(), notice("carol 2 has been kicked from the room"));
    EXPECT_FALSE(room().is_authenticated(5));
    EXPECT_TRUE(room().is_authenticated(4));
}

TEST_F(CommandTest, BanKicksAndKeepsTheUserOutUntilItExpires) {
    Output out = cmd("/ban bob 2");
    EXPECT_EQ(to(out, 3),
              (Frames{presence("bob", "has been banned!"),
                      notice("You have been banned from the chat room by boss. You may come back "
                             "after 2 hours."),
                      std::string(kDisconnect)}));
    EXPECT_EQ(to(out, 1).back(), notice("bob has been banned from the room for 2 hours."));

    disconnect(3);
    Output again = login(6, "bob", kNow + 1s);
    EXPECT_EQ(to(again, 6),
              (Frames{notice("You are currently banned from entering the chat room. Chat room bans "
                             "are temporary and usually last for 24 hours.<br><br>Your ban "
                             "expires in: 1h59m59s"),
                      std::string(kDisconnect)}));
    EXPECT_FALSE(room().is_authenticated(6));
    // After the ban runs out the name may come back.
    Output later = login(7, "bob", kNow + 2h + 1s);
    EXPECT_EQ(to(later, 7).front(), me("bob"));
}

TEST_F(CommandTest, BanDefaultsTo24HoursAndWorksForOfflineUsers) {
    EXPECT_EQ(
        all(cmd("/ban ghost")),
        (std::vector<Sent>{{1, notice("ghost has been banned from the room for 24 hours.")}}));
    EXPECT_EQ(
        all(cmd("/ban ghost2 soon")),
        (std::vector<Sent>{{1, notice("ghost2 has been banned from the room for 24 hours.")}}));
}

TEST_F(CommandTest, UnbanAndBans) {
    cmd("/ban ghost 1");
    const auto list = all(cmd("/bans"));
    ASSERT_EQ(list.size(), 1u);
    EXPECT_NE(list[0].second.find("The listing of banned users currently includes:"),
              std::string::npos);
    EXPECT_NE(list[0].second.find("\\u003ccode\\u003eghost\\u003c/code\\u003e banned until "
                                  "2025-07-02T18:54:20Z"),
              std::string::npos)
        << list[0].second;
    EXPECT_EQ(all(cmd("/unban ghost")),
              (std::vector<Sent>{{1, notice("The ban on ghost has been lifted.")}}));
    EXPECT_EQ(all(cmd("/unban ghost")),
              (std::vector<Sent>{{1, notice("/unban: user ghost was not found to be banned. Try "
                                            "`/bans` to see current banned users.")}}));
    EXPECT_EQ(to(login(8, "ghost"), 8).front(), me("ghost"));
}

TEST_F(CommandTest, NsfwMarksTheCameraAndFilesAReport) {
    EXPECT_EQ(all(cmd("/nsfw")),
              (std::vector<Sent>{
                  {1, notice("Usage: `/nsfw username` to add the NSFW flag to their camera.")}}));
    EXPECT_EQ(all(cmd("/nsfw alice")),
              (std::vector<Sent>{{1, notice("/nsfw: alice's camera was not currently enabled.")}}));
    set_me(2, 1);
    flush();
    Output out = cmd("/nsfw alice");
    EXPECT_EQ(to(out, 2),
              (Frames{notice("Just a friendly reminder to mark your camera as 'Explicit' by using "
                             "the button at the top of the page if you are going to be sexual on "
                             "webcam.<br><br>Your camera has been marked as Explicit for you by "
                             "@boss"),
                      me("alice", 3)}));
    EXPECT_EQ(to(out, 1), Frames{notice("alice now has their camera marked as Explicit")});
    ASSERT_EQ(out.effects.size(), 1u);
    const auto& report = std::get<chat::effect::PostReport>(out.effects[0]);
    EXPECT_EQ(report.about_username, "alice");
    EXPECT_EQ(report.reason, "NSFW Command Issued");
    EXPECT_EQ(report.message, "The admin @boss marks the webcam red for user @alice");
    EXPECT_FALSE(report.reply_to.has_value());
    EXPECT_EQ(
        all(cmd("/nsfw alice")),
        (std::vector<Sent>{{1, notice("/nsfw: alice's camera was already marked as explicit.")}}));
}

TEST_F(CommandTest, CutTellsTheUserToStopTheirCamera) {
    EXPECT_EQ(all(cmd("/cut")),
              (std::vector<Sent>{{1, notice("Usage: `/cut username` to turn their camera off.")}}));
    EXPECT_EQ(all(cmd("/cut bob")),
              (std::vector<Sent>{{1, notice("/cut: bob's camera was not currently enabled.")}}));
    set_me(3, 1);
    EXPECT_EQ(all(cmd("/cut bob")),
              (std::vector<Sent>{{3, R"({"action":"cut"})"},
                                 {1, notice("bob has been told to turn off their camera.")}}));
}

TEST_F(CommandTest, UnmuteAllClearsOwnMutes) {
    act(1, "mute", "alice");
    act(1, "mute", "bob");
    EXPECT_EQ(all(cmd("/unmute-all")),
              (std::vector<Sent>{{1, notice("Your mute on 2 users has been lifted.")}}));
    // alice's messages reach the operator again.
    EXPECT_EQ(to(say(2, "lobby", "hello"), 1).size(), 1u);
}

TEST_F(CommandTest, OpAndDeop) {
    EXPECT_EQ(all(cmd("/op nobody")),
              (std::vector<Sent>{{1, notice("/op: user nobody was not found.")}}));
    EXPECT_EQ(all(cmd("/op alice")),
              (std::vector<Sent>{{1, notice("Operator rights have been granted to alice")}}));
    // alice may now run commands, and her pings carry a server-signed token.
    EXPECT_EQ(to(cmd("/cut bob", 2), 2),
              Frames{notice("/cut: bob's camera was not currently enabled.")});
    const auto p = to(ping(2), 2);
    ASSERT_EQ(p.size(), 1u);
    auto token = bj::parse(p[0]).as_object().at("jwt").as_string();
    auto verified = auth::verify(std::string_view(token), kSecret, kNowUnix);
    ASSERT_TRUE(verified.ok) << verified.error;
    EXPECT_EQ(verified.claims.sub, "alice");
    EXPECT_TRUE(verified.claims.op);
    EXPECT_EQ(all(cmd("/deop alice")),
              (std::vector<Sent>{{1, notice("Operator rights have been taken from alice")}}));
    EXPECT_EQ(to(cmd("/cut bob", 2), 3),
              Frames{chat_msg("lobby", "alice", para("/cut bob"), kFirstId)});
}

TEST_F(CommandTest, KickallSignsEveryoneOut) {
    Output out = cmd("/kickall");
    const auto n = notice(
        "<strong>Notice:</strong> The chat operator has kicked everybody from the "
        "room. Usually, this may mean a new feature of the chat has been launched "
        "and you need to reload the page for it to function correctly.");
    for (SessionId id : {1, 2, 3}) {
        EXPECT_EQ(to(out, id), (Frames{n, std::string(kDisconnect)})) << id;
        EXPECT_FALSE(room().is_authenticated(id));
    }
    EXPECT_EQ(room().online_count(), 0u);
}

TEST_F(CommandTest, ReconfigureAndShutdownAskTheTransport) {
    Output re = cmd("/reconfigure");
    ASSERT_EQ(re.effects.size(), 1u);
    EXPECT_EQ(std::get<chat::effect::ReloadSettings>(re.effects[0]).requester, 1u);
    Output reply;
    room().reconfigured(1, "", reply);
    EXPECT_EQ(
        all(reply),
        (std::vector<Sent>{{1, notice("The server config file has been reloaded successfully!")}}));
    Output failed;
    room().reconfigured(1, "settings.toml:2:9: bad", failed);
    EXPECT_EQ(all(failed),
              (std::vector<Sent>{
                  {1, notice("Error reloading the server config: settings.toml:2:9: bad")}}));

    Output down = cmd("/shutdown");
    ASSERT_EQ(down.effects.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<chat::effect::Shutdown>(down.effects[0]));
    EXPECT_EQ(to(down, 2), Frames{notice("The chat server is going down for a reboot NOW!")});
}

TEST_F(CommandTest, HelpRepliesWithMarkdown) {
    for (std::string_view c : {"/help", "/help-advanced"}) {
        const auto out = all(cmd(c));
        ASSERT_EQ(out.size(), 1u) << c;
        EXPECT_EQ(out[0].first, 1u);
        // The dangerous commands are listed only by /help-advanced.
        const bool lists_kickall = out[0].second.find("/kickall") != std::string::npos;
        EXPECT_EQ(lists_kickall, c == "/help-advanced") << c;
        EXPECT_NE(out[0].second.find("\\u003cli\\u003e"), std::string::npos) << out[0].second;
    }
}

// =======================================================================================
// Reports (protocol.md §5.14) and the admin API's room operations (api.md §6, §9, §10)

TEST_F(RoomTest, ReportNeedsTheWebhook) {
    login(1, "alice");
    EXPECT_EQ(all(send(1, R"({"action":"report","username":"x"})")),
              (std::vector<Sent>{{1, notice("Unfortunately, the report webhook is not enabled so "
                                            "your report could not be received!")}}));
}

TEST_F(RoomTest, ReportOfADmCarriesTheRecentContext) {
    for (auto& w : cfg.webhook_urls) w.enabled = true;
    login(1, "alice");
    login(2, "bob");
    say(2, "@alice", "  rude words  ");
    Output out = send(1, R"({"action":"report","channel":"@bob","username":"bob","timestamp":"t",)"
                         R"("reason":"Spam","message":"rude words","comment":"pls"})");
    EXPECT_TRUE(out.deliveries.empty());
    ASSERT_EQ(out.effects.size(), 1u);
    const auto& r = std::get<chat::effect::PostReport>(out.effects[0]);
    EXPECT_EQ(r.from_username, "alice");
    EXPECT_EQ(r.about_username, "bob");
    EXPECT_EQ(r.channel, "@bob");
    EXPECT_EQ(r.message,
              "rude words\n\nRecent message context:\n\n2025-07-02 17:54:20 [bob] rude words");
    EXPECT_EQ(r.reply_to, std::optional<SessionId>(1));
    Output ok, bad;
    room().report_result(1, "", ok);
    room().report_result(1, "timeout", bad);
    EXPECT_EQ(all(ok),
              (std::vector<Sent>{{1, notice("Your report has been delivered successfully.")}}));
    EXPECT_EQ(all(bad),
              (std::vector<Sent>{{1, notice("Error sending the report to the website: timeout")}}));
}

TEST_F(RoomTest, AmendClaimsPingsAndReflectsMe) {
    login_claims(1, claims_for("alice"));
    login(2, "guest");
    Output out;
    auto c = claims_for("alice");
    c.nick = "Ally";
    c.rules = {"redcam"};
    ASSERT_TRUE(room().amend_claims("alice", c, kNow, out));
    const auto frames = to(out, 1);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_NE(frames[0].find(R"("IsRedCamRule":true)"), std::string::npos) << frames[0];
    EXPECT_EQ(frames[1], me("alice"));
    EXPECT_TRUE(room().who_dirty());
    Output none;
    EXPECT_FALSE(room().amend_claims("nobody", c, kNow, none));
    EXPECT_TRUE(room().amend_claims("guest", c, kNow, none));  // guests keep no claims
    EXPECT_TRUE(none.deliveries.empty());
}

TEST_F(RoomTest, BlockNowBlocksEveryOnlinePair) {
    login(1, "alice");
    login(2, "bob");
    flush();
    Output out;
    room().block_now({"alice", "bob", "offline"}, kNow, out);
    EXPECT_EQ(to(out, 1), (Frames{R"({"action":"block","username":"bob"})",
                                  R"({"action":"block","username":"offline"})"}));
    EXPECT_EQ(to(out, 2), (Frames{R"({"action":"block","username":"alice"})",
                                  R"({"action":"block","username":"offline"})"}));
    EXPECT_TRUE(to(say(1, "lobby", "hi"), 2).empty());
}

TEST_F(RoomTest, DisconnectNowRemovesUsers) {
    login(1, "alice");
    login(2, "bob");
    Output out;
    EXPECT_EQ(room().disconnect_now({"bob", "nobody"}, "Bye", true, kNow, out), 1);
    const auto kicked = presence("bob", "has been kicked from the room!");
    EXPECT_EQ(to(out, 2), (Frames{kicked, notice("Bye"), std::string(kDisconnect)}));
    EXPECT_EQ(to(out, 1), Frames{kicked});
    EXPECT_FALSE(room().is_authenticated(2));
    Output quiet;
    EXPECT_EQ(room().disconnect_now({"alice"}, "", false, kNow, quiet), 1);
    EXPECT_EQ(to(quiet, 1),
              (Frames{presence("alice", "has exited the room!"), std::string(kDisconnect)}));
}

// =======================================================================================
// Images (protocol.md §14): decoding is an effect; delivery happens in image_ready().

TEST_F(RoomTest, FileBecomesAnImageEffectWithItsBytes) {
    login(1, "alice");
    Output out =
        send(1, R"({"action":"file","channel":"lobby","message":"a.png","bytes":[1,2,255]})");
    EXPECT_TRUE(out.deliveries.empty());
    ASSERT_EQ(out.effects.size(), 1u);
    const auto& e = std::get<chat::effect::ProcessImage>(out.effects[0]);
    EXPECT_EQ(e.from, 1u);
    EXPECT_EQ(e.channel, "lobby");
    EXPECT_EQ(e.filename, "a.png");
    EXPECT_EQ(e.bytes, std::string("\x01\x02\xff", 3));
}

TEST_F(RoomTest, FileIsRefusedByTheNoImageRuleAndBeforeLogin) {
    cfg.moderation_rules = {config::ModerationRule{.username = "alice", .no_image = true}};
    room().connect(9, {});
    EXPECT_EQ(all(send(9, R"({"action":"file","message":"a.png","bytes":[1]})")),
              (std::vector<Sent>{{9, notice(kMustLogIn)}}));
    login(1, "alice");
    Output out = send(1, R"({"action":"file","channel":"lobby","message":"a.png","bytes":[1]})");
    EXPECT_TRUE(out.effects.empty());
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, notice(cfg.strings.mod_rule_error_no_image)}}));
}

TEST_F(RoomTest, ImageReadyBroadcastsOrReportsTheError) {
    login(1, "alice");
    login(2, "bob");
    Output out;
    room().image_ready(1, "lobby", chat::ImageOutcome{true, "<img src=\"data:x\">", ""}, kNow, out);
    const std::string m = chat_msg("lobby", "alice", go_escape("<img src=\"data:x\">"), kFirstId);
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, m}, {2, m}}));
    Output failed;
    room().image_ready(1, "lobby", chat::ImageOutcome{false, "", "Bad picture."}, kNow, failed);
    EXPECT_EQ(all(failed), (std::vector<Sent>{{1, notice("Bad picture.")}}));
    // Not kept for the echo of later joiners.
    EXPECT_EQ(to(login(3, "carol"), 3)[1], R"({"action":"echo"})");
}

TEST_F(RoomTest, ImageDmToAnOfflineUserGetsANoticeInsteadOfACrash) {
    login(1, "alice");
    Output out;
    room().image_ready(1, "@ghost", chat::ImageOutcome{true, "<img>", ""}, kNow, out);
    EXPECT_EQ(
        all(out),
        (std::vector<Sent>{
            {1, chat_msg("@ghost", "alice", go_escape("<img>"), kFirstId)},
            {1, notice("Could not deliver your message: @ghost appears not to be online.")}}));
}

TEST_F(RoomTest, ImageDmRespectsMutesEvenForOperators) {
    login_claims(1, claims_for("boss", true));
    login(2, "bob");
    act(2, "mute", "boss");
    Output out;
    room().image_ready(1, "@bob", chat::ImageOutcome{true, "<img>", ""}, kNow, out);
    EXPECT_EQ(all(out),
              (std::vector<Sent>{{1, chat_msg("@bob", "boss", go_escape("<img>"), kFirstId)}}));
    act(2, "unmute", "boss");
    Output ok;
    room().image_ready(1, "@bob", chat::ImageOutcome{true, "<img>", ""}, kNow, ok);
    EXPECT_EQ(to(ok, 2), Frames{chat_msg("@boss", "boss", go_escape("<img>"), kFirstId + 1)});
}

// =======================================================================================
// Limits (decisions.md §11)

TEST_F(RoomTest, LoginAttemptsPerAddressAreLimited) {
    cfg.limits.logins_per_ip_per_minute = 2;
    for (SessionId id : {1, 2, 3}) room().connect(id, chat::ConnectionInfo{"10.0.0.1"});
    room().connect(4, chat::ConnectionInfo{"10.0.0.2"});
    const auto attempt = [&](SessionId id, Time now) {
        return send(id, R"({"action":"login","username":"u"})", now);
    };
    EXPECT_EQ(to(attempt(1, kNow), 1).front(), me("u"));
    EXPECT_EQ(to(attempt(2, kNow + 1s), 2).front(), me("u 2"));
    EXPECT_EQ(all(attempt(3, kNow + 2s)),
              (std::vector<Sent>{{3, notice("Too many login attempts from your address. Please "
                                            "wait a minute and try again.")}}));
    EXPECT_FALSE(room().is_authenticated(3));
    // Another address is not affected, and a minute later the first may try again.
    EXPECT_EQ(to(attempt(4, kNow + 2s), 4).front(), me("u 3"));
    EXPECT_EQ(to(attempt(3, kNow + 61s), 3).front(), me("u 4"));
}
