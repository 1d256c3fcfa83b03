// Unit tests of the chat core's content moderation: message filters and the context buffer
// (features.md §4), the chat-log effects (§7) and DM link-spam protection (§9,
// protocol.md §21).
// Every test feeds events with explicit times and asserts the exact frames each session gets
// and the exact effects the room asks for.

#include "auth/jwt.hpp"
#include "chat/protocol.hpp"
#include "chat/room.hpp"
#include "config/settings.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
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

constexpr std::int64_t kStartUnix = 1751478800;  // 2025-07-02T17:53:20Z, a Wednesday
const Time T0{std::chrono::seconds{kStartUnix}};
const Time kNow = T0 + 60s;  // 2025-07-02T17:54:20Z: past both reboot graces
constexpr std::int64_t kFirstId = kStartUnix + 1;
constexpr std::string_view kSecret = "moderation-test-secret";

constexpr std::string_view kDisconnect = R"({"action":"disconnect"})";
constexpr std::string_view kEmptyEcho = R"({"action":"echo"})";
constexpr std::string_view kWatch = "Watch your language.";
constexpr std::string_view kOpWouldReport =
    "Your recent chat context would have been reported to your main website.";
constexpr std::string_view kFilterComment =
    "This is an automated report via server side chat filters.\n\nThe recent context in this "
    "channel included the following conversation:\n\n";
constexpr std::string_view kKicked = "has been kicked from the room!";
constexpr std::string_view kBanned = "has been banned!";

// protocol.md §21, verbatim.
constexpr std::string_view kSpamKickText =
    "<strong>Spam Detected:</strong> You have pasted the same URL link to too many different "
    "people in a row, and this has been flagged as spam.<br><br>You will now be kicked from the "
    "chat room. You may refresh and log back in, however, if you continue to spam this link one "
    "more time, you <strong>will be temporarily banned from the chat room.</strong>";
constexpr std::string_view kSpamBanText =
    "<strong>Spam Detected:</strong> You recently were kicked from the chat room because you "
    "had already pasted this link to too many different people. You were warned that spamming "
    "this link one more time would result in a temporary ban from the chat room.<br><br>"
    "<strong>You are now (temporarily) banned from the chat room.</strong>";
constexpr std::string_view kBanNotice =
    "You are currently banned from entering the chat room. Chat room bans are temporary and "
    "usually last for 24 hours.<br><br>Your ban expires in: ";

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

std::string notice(std::string_view text) {
    return R"({"action":"error","username":"ChatServer","message":")" + go_escape(text) + R"("})";
}

std::string presence(std::string_view name, std::string_view text) {
    return R"({"action":"presence","username":")" + std::string(name) + R"(","message":")" +
           std::string(text) + R"("})";
}

std::string me(std::string_view name) {
    return R"({"action":"me","username":")" + std::string(name) + "\"}";
}

// A chat message frame; `html` is already JSON-escaped (see para()).
std::string chat_msg(std::string_view channel, std::string_view from, std::string_view html,
                     std::int64_t id) {
    return R"({"action":"message","channel":")" + std::string(channel) + R"(","username":")" +
           std::string(from) + R"(","message":")" + std::string(html) + R"(","msgID":)" +
           std::to_string(id) + "}";
}

std::string echo_of(std::string_view channel, std::string_view from, std::string_view html,
                    std::int64_t id, std::string_view timestamp) {
    std::string s = chat_msg(channel, from, html, id);
    s.pop_back();
    return R"({"action":"echo","messages":[)" + s + R"(,"timestamp":")" + std::string(timestamp) +
           R"("}]})";
}

// ----- reading an Output ----------------------------------------------------------------

using Sent = std::pair<SessionId, std::string>;
using Frames = std::vector<std::string>;

std::vector<Sent> all(const Output& out) {
    std::vector<Sent> v;
    for (const auto& d : out.deliveries) v.emplace_back(d.to, *d.payload);
    return v;
}

Frames to(const Output& out, SessionId id) {
    Frames v;
    for (const auto& d : out.deliveries)
        if (d.to == id) v.push_back(*d.payload);
    return v;
}

using Log = std::pair<std::string, std::string>;  // file, line

std::vector<Log> logs(const Output& out) {
    std::vector<Log> v;
    for (const auto& e : out.effects) {
        if (const auto* a = std::get_if<chat::effect::AppendLog>(&e))
            v.emplace_back(a->file, a->line);
    }
    return v;
}

std::vector<chat::effect::PostReport> reports(const Output& out) {
    std::vector<chat::effect::PostReport> v;
    for (const auto& e : out.effects) {
        if (const auto* r = std::get_if<chat::effect::PostReport>(&e)) v.push_back(*r);
    }
    return v;
}

void expect_report(const chat::effect::PostReport& r, std::string_view who,
                   std::string_view channel, std::string_view timestamp, std::string_view reason,
                   std::string_view message, std::string_view comment) {
    EXPECT_EQ(r.from_username, who);
    EXPECT_EQ(r.about_username, who);
    EXPECT_EQ(r.channel, channel);
    EXPECT_EQ(r.timestamp, timestamp);
    EXPECT_EQ(r.reason, reason);
    EXPECT_EQ(r.message, message);
    EXPECT_EQ(r.comment, comment);
    EXPECT_FALSE(r.reply_to.has_value());
}

auth::Claims op_claims(std::string sub) {
    auth::Claims c;
    c.sub = std::move(sub);
    c.op = true;
    return c;
}

// ----- fixture --------------------------------------------------------------------------

class ModerationTest : public ::testing::Test {
  protected:
    ModerationTest() {
        setenv("TZ", "UTC", 1);
        tzset();
        cfg = config::default_settings();
        cfg.jwt.secret_key = std::string(kSecret);
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

    // The example filter of the default settings, switched on.
    config::MessageFilter& example_filter() {
        EXPECT_EQ(cfg.message_filters.size(), 1u);
        auto& f = cfg.message_filters.at(0);
        f.enabled = true;
        return f;
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

    Output login(SessionId id, std::string_view name, Time now = kNow) {
        room().connect(id, {});
        bj::object o{{"action", "login"}, {"username", name}};
        Output out = send(id, bj::serialize(o), now);
        room().flush_who(out);
        return out;
    }

    Output login_op(SessionId id, std::string_view name, Time now = kNow) {
        room().connect(id, {});
        bj::object o{{"action", "login"},
                     {"jwt", auth::sign(op_claims(std::string(name)), kSecret)}};
        Output out = send(id, bj::serialize(o), now);
        room().flush_who(out);
        return out;
    }

    Output say(SessionId id, std::string_view channel, std::string_view text, Time now = kNow) {
        bj::object o{{"action", "message"}, {"channel", channel}, {"message", text}};
        return send(id, bj::serialize(o), now);
    }

    Output tick(Time now) {
        Output out;
        room().tick(now, out);
        return out;
    }

    config::Settings cfg;
    std::unique_ptr<Room> room_;
};

class FilterTest : public ModerationTest {};
class LinkSpamTest : public ModerationTest {
  protected:
    // alice (1) spams; bob (2), carol (3) and dave (4) receive.
    void SetUp() override {
        cfg.dm_link_spam_protection.max_threads = 2;
        login(1, "alice");
        login(2, "bob");
        login(3, "carol");
        login(4, "dave");
    }
};
class ChatLogTest : public ModerationTest {
  protected:
    ChatLogTest() {
        cfg.logging.enabled = true;
        cfg.logging.channels = {"lobby"};
        cfg.logging.usernames = {"alice"};
    }
};

// =======================================================================================
// The context buffer (features.md §4 step 1)

TEST_F(ModerationTest, DefaultExampleFilterIsDisabled) {
    ASSERT_EQ(cfg.message_filters.size(), 1u);
    const auto& f = cfg.message_filters[0];
    EXPECT_FALSE(f.enabled);
    EXPECT_EQ(f.keyword_phrases,
              (std::vector<std::string>{"\\bswear words\\b", "\\b(swearing|cursing)\\b",
                                        "suck my ([^\\s]+)"}));
    EXPECT_TRUE(f.censor_message);
    EXPECT_FALSE(f.forward_message);
    EXPECT_FALSE(f.report_message);
    EXPECT_EQ(f.chat_server_response, kWatch);
}

TEST_F(ModerationTest, ContextKeepsTheLast30TrimmedLinesOfTheConversation) {
    example_filter().report_message = true;
    login(1, "alice");
    login(2, "bob");
    std::string expected;
    for (int i = 0; i < 31; ++i) {
        say(i % 2 ? 2 : 1, "lobby", " line " + std::to_string(i) + "\n",
            kNow + std::chrono::seconds(i));
    }
    say(2, "offtopic", "elsewhere", kNow + 31s);
    say(1, "@bob", "private", kNow + 31s);
    Output out = say(1, "lobby", "\tswear words ", kNow + 40s);
    // Lines 2..30 (the first two fell out) and the trigger: 30 lines, oldest first.
    for (int i = 2; i < 31; ++i) {
        expected += "2025-07-02 17:54:" + std::to_string(20 + i) + " [" +
                    (i % 2 ? "bob" : "alice") + "] line " + std::to_string(i) + "\n\n";
    }
    expected += "2025-07-02 17:55:00 [alice] swear words";
    const auto r = reports(out);
    ASSERT_EQ(r.size(), 1u);
    expect_report(r[0], "alice", "lobby", "Wed, 02 Jul 2025 17:55:00 UTC",
                  "Server Side Message Filter", "\tswear words ",
                  std::string(kFilterComment) + expected);
}

// =======================================================================================
// Message filters (features.md §4)

TEST_F(FilterTest, WithheldMessageIsCensoredBackToTheSenderOnly) {
    example_filter();
    login(1, "alice");
    login(2, "bob");
    Output out = say(1, "lobby", "suck my café now");
    // "suck my café" is 13 bytes of UTF-8 (é is two): 13 asterisks.
    EXPECT_EQ(all(out), (std::vector<Sent>{
                            {1, chat_msg("lobby", "alice", para("************* now"), kFirstId)},
                            {1, notice(kWatch)},
                        }));
    EXPECT_TRUE(out.effects.empty());

    // Every phrase is applied, and every occurrence of a matched text is censored.
    Output two = say(1, "lobby", "swear words, cursing and cursing");
    EXPECT_EQ(
        all(two),
        (std::vector<Sent>{
            {1, chat_msg("lobby", "alice", para("***********, ******* and *******"), kFirstId + 1)},
            {1, notice(kWatch)},
        }));

    // A withheld message is not echoed to a later joiner.
    Output joiner = login(3, "carol");
    EXPECT_EQ(to(joiner, 3).at(1), kEmptyEcho);
    // The next clean message gets the next id: the withheld ones used theirs.
    EXPECT_EQ(to(say(1, "lobby", "hello"), 2),
              Frames{chat_msg("lobby", "alice", para("hello"), kFirstId + 2)});
}

TEST_F(FilterTest, WithheldDmKeepsItsChannelAndIsNotStored) {
    example_filter();
    cfg.direct_message_history.enabled = true;
    login(1, "alice");
    login(2, "bob");
    Output out = say(1, "@bob", "no swear words");
    EXPECT_EQ(all(out), (std::vector<Sent>{
                            {1, chat_msg("@bob", "alice", para("no ***********"), kFirstId)},
                            {1, notice(kWatch)},
                        }));
    EXPECT_TRUE(out.effects.empty());
}

TEST_F(FilterTest, FiltersAreCaseSensitiveUnlessAsked) {
    example_filter().keyword_phrases.push_back("(?i)darn");
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(to(say(1, "lobby", "Swear Words"), 2),
              Frames{chat_msg("lobby", "alice", para("Swear Words"), kFirstId)});
    EXPECT_EQ(all(say(1, "lobby", "DaRn")),
              (std::vector<Sent>{{1, chat_msg("lobby", "alice", para("****"), kFirstId + 1)},
                                 {1, notice(kWatch)}}));
}

TEST_F(FilterTest, ForwardedMessageIsCensoredForEveryone) {
    example_filter().forward_message = true;
    login(1, "alice");
    login(2, "bob");
    Output out = say(1, "lobby", "stop swearing");
    const auto msg = chat_msg("lobby", "alice", para("stop ********"), kFirstId);
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, notice(kWatch)}, {1, msg}, {2, msg}}));
    EXPECT_TRUE(out.effects.empty());
    // The censored text is what the echo keeps.
    Output joiner = login(3, "carol");
    EXPECT_EQ(to(joiner, 3).at(1),
              echo_of("lobby", "alice", para("stop ********"), kFirstId, "2025-07-02T17:54:20Z"));

    // A forwarded DM is delivered censored too.
    Output dm = say(2, "@alice", "cursing");
    EXPECT_EQ(all(dm),
              (std::vector<Sent>{{2, notice(kWatch)},
                                 {2, chat_msg("@alice", "bob", para("*******"), kFirstId + 1)},
                                 {1, chat_msg("@bob", "bob", para("*******"), kFirstId + 1)}}));
}

TEST_F(FilterTest, NoResponseAndNoCensoring) {
    auto& f = example_filter();
    f.chat_server_response.clear();
    f.censor_message = false;
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(all(say(1, "lobby", "swear words")),
              (std::vector<Sent>{{1, chat_msg("lobby", "alice", para("swear words"), kFirstId)}}));
}

TEST_F(FilterTest, ReportingFilterPostsTheContext) {
    example_filter().report_message = true;
    login(1, "alice");
    login(2, "bob");
    say(2, "lobby", "hello", kNow);
    say(1, "lobby", "  hi there  ", kNow + 1s);
    Output out = say(1, "lobby", "swear words", kNow + 2s);
    EXPECT_EQ(all(out), (std::vector<Sent>{
                            {1, chat_msg("lobby", "alice", para("***********"), kFirstId + 2)},
                            {1, notice(kWatch)},
                        }));
    ASSERT_EQ(out.effects.size(), 1u);
    const auto r = reports(out);
    ASSERT_EQ(r.size(), 1u);
    expect_report(r[0], "alice", "lobby", "Wed, 02 Jul 2025 17:54:22 UTC",
                  "Server Side Message Filter", "swear words",
                  std::string(kFilterComment) +
                      "2025-07-02 17:54:20 [bob] hello\n\n"
                      "2025-07-02 17:54:21 [alice] hi there\n\n"
                      "2025-07-02 17:54:22 [alice] swear words");
}

TEST_F(FilterTest, ReportOfADmCarriesThatConversationOnly) {
    example_filter().report_message = true;
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    say(1, "lobby", "public words", kNow);
    say(3, "@bob", "carol here", kNow);
    say(2, "@alice", "hey alice", kNow + 1s);
    Output out = say(1, "@bob", "suck my thumb", kNow + 2s);
    EXPECT_EQ(to(out, 2), Frames{});
    const auto r = reports(out);
    ASSERT_EQ(r.size(), 1u);
    expect_report(r[0], "alice", "@bob", "Wed, 02 Jul 2025 17:54:22 UTC",
                  "Server Side Message Filter", "suck my thumb",
                  std::string(kFilterComment) +
                      "2025-07-02 17:54:21 [bob] hey alice\n\n"
                      "2025-07-02 17:54:22 [alice] suck my thumb");
}

TEST_F(FilterTest, ForwardedAndReportedMessageIsStillDelivered) {
    auto& f = example_filter();
    f.forward_message = true;
    f.report_message = true;
    login(1, "alice");
    login(2, "bob");
    Output out = say(2, "lobby", "cursing");
    const auto msg = chat_msg("lobby", "bob", para("*******"), kFirstId);
    EXPECT_EQ(all(out), (std::vector<Sent>{{2, notice(kWatch)}, {1, msg}, {2, msg}}));
    const auto r = reports(out);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].about_username, "bob");
    EXPECT_EQ(r[0].comment, std::string(kFilterComment) + "2025-07-02 17:54:20 [bob] cursing");
}

TEST_F(FilterTest, OperatorTrippingAReportingFilterIsOnlyWarned) {
    example_filter().report_message = true;
    login_op(1, "boss");
    login(2, "bob");
    Output out = say(1, "lobby", "swear words");
    EXPECT_EQ(all(out), (std::vector<Sent>{
                            {1, chat_msg("lobby", "boss", para("***********"), kFirstId)},
                            {1, notice(kWatch)},
                            {1, notice(kOpWouldReport)},
                        }));
    EXPECT_TRUE(out.effects.empty());
}

TEST_F(FilterTest, DmsWithAnOperatorAreExemptEitherWay) {
    example_filter().report_message = true;
    login_op(1, "boss");
    login(2, "bob");
    login(3, "carol");
    EXPECT_EQ(all(say(1, "@bob", "swear words")),
              (std::vector<Sent>{{1, chat_msg("@bob", "boss", para("swear words"), kFirstId)},
                                 {2, chat_msg("@boss", "boss", para("swear words"), kFirstId)}}));
    Output back = say(2, "@boss", "cursing");
    EXPECT_EQ(all(back),
              (std::vector<Sent>{{2, chat_msg("@boss", "bob", para("cursing"), kFirstId + 1)},
                                 {1, chat_msg("@bob", "bob", para("cursing"), kFirstId + 1)}}));
    EXPECT_TRUE(back.effects.empty());
    // Between two non-operators the filter applies.
    Output other = say(2, "@carol", "cursing");
    EXPECT_EQ(all(other),
              (std::vector<Sent>{{2, chat_msg("@carol", "bob", para("*******"), kFirstId + 2)},
                                 {2, notice(kWatch)}}));
    EXPECT_EQ(reports(other).size(), 1u);
    // An operator in a public channel is filtered like anyone.
    EXPECT_EQ(to(say(1, "lobby", "cursing"), 2), Frames{});
}

TEST_F(FilterTest, DisabledFiltersAreSkipped) {
    config::MessageFilter second;
    second.enabled = true;
    second.keyword_phrases = {"words"};
    second.chat_server_response = "Second filter.";
    cfg.message_filters.push_back(second);  // the first (example) filter stays disabled
    login(1, "alice");
    login(2, "bob");
    // "swear words" matches the disabled example filter only in part of its text; the enabled
    // second filter is the one that answers.
    EXPECT_EQ(all(say(1, "lobby", "swear words")),
              (std::vector<Sent>{
                  {1, chat_msg("lobby", "alice", para("swear *****"), kFirstId)},
                  {1, notice("Second filter.")},
              }));
    // A text only the disabled filter matches goes through untouched.
    const auto msg = chat_msg("lobby", "alice", para("stop cursing"), kFirstId + 1);
    EXPECT_EQ(all(say(1, "lobby", "stop cursing")), (std::vector<Sent>{{1, msg}, {2, msg}}));
}

TEST_F(FilterTest, TheFirstMatchingFilterWins) {
    example_filter();
    config::MessageFilter second;
    second.enabled = true;
    second.keyword_phrases = {"words", "cursing"};
    second.chat_server_response = "Second filter.";
    cfg.message_filters.push_back(second);
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(all(say(1, "lobby", "cursing words")),
              (std::vector<Sent>{
                  {1, chat_msg("lobby", "alice", para("******* words"), kFirstId)},
                  {1, notice(kWatch)},
              }));
    EXPECT_EQ(all(say(1, "lobby", "bad words")),
              (std::vector<Sent>{
                  {1, chat_msg("lobby", "alice", para("bad *****"), kFirstId + 1)},
                  {1, notice("Second filter.")},
              }));
}

TEST_F(FilterTest, ChannelKindFlagsAreIgnored) {
    auto& f = example_filter();
    f.public_channels = false;
    f.private_channels = false;
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(to(say(1, "lobby", "cursing"), 2), Frames{});
    EXPECT_EQ(to(say(1, "@bob", "cursing"), 2), Frames{});
}

TEST_F(FilterTest, InvalidPhrasesAreSkipped) {
    // "(" does not compile; neither does "rude)|(crude" on its own (it must not be rescued by
    // being wrapped in a group).
    example_filter().keyword_phrases = {"(", "rude)|(crude", "[z-a]", "\\bswear words\\b"};
    login(1, "alice");
    login(2, "bob");
    const auto clean = chat_msg("lobby", "alice", para("rude ( crude [z-a]"), kFirstId);
    EXPECT_EQ(all(say(1, "lobby", "rude ( crude [z-a]")),
              (std::vector<Sent>{{1, clean}, {2, clean}}));
    EXPECT_EQ(all(say(1, "lobby", "swear words")),
              (std::vector<Sent>{
                  {1, chat_msg("lobby", "alice", para("***********"), kFirstId + 1)},
                  {1, notice(kWatch)},
              }));
}

TEST_F(FilterTest, FiltersMatchTheRenderedHtml) {
    example_filter().keyword_phrases = {"<strong>"};
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(
        all(say(1, "lobby", "**bold**")),
        (std::vector<Sent>{
            {1, chat_msg("lobby", "alice", go_escape("<p>********bold</strong></p>"), kFirstId)},
            {1, notice(kWatch)},
        }));
    // The Markdown source is not what is searched: "**" is gone from the HTML.
    auto next = cfg;
    next.message_filters.at(0).keyword_phrases = {"\\*\\*bold"};
    room().set_settings(std::make_shared<const config::Settings>(next));
    const auto bold =
        chat_msg("lobby", "alice", go_escape("<p><strong>bold</strong></p>"), kFirstId + 1);
    EXPECT_EQ(all(say(1, "lobby", "**bold**")), (std::vector<Sent>{{1, bold}, {2, bold}}));
}

TEST_F(FilterTest, ReloadedSettingsRecompileThePhrases) {
    login(1, "alice");
    login(2, "bob");
    const auto msg = chat_msg("lobby", "alice", para("swear words"), kFirstId);
    EXPECT_EQ(all(say(1, "lobby", "swear words")), (std::vector<Sent>{{1, msg}, {2, msg}}));
    auto next = cfg;
    next.message_filters.at(0).enabled = true;
    room().set_settings(std::make_shared<const config::Settings>(next));
    EXPECT_EQ(to(say(1, "lobby", "swear words"), 2), Frames{});
}

// =======================================================================================
// DM link-spam protection (features.md §9)

TEST_F(LinkSpamTest, KickThenBanForTheSameLink) {
    const std::string text = "visit https://example.com/x";
    const std::string html = go_escape(
        R"(<p>visit <a href="https://example.com/x" rel="nofollow">https://example.com/x</a></p>)");
    EXPECT_EQ(all(say(1, "@bob", text)),
              (std::vector<Sent>{{1, chat_msg("@bob", "alice", html, kFirstId)},
                                 {2, chat_msg("@alice", "alice", html, kFirstId)}}));
    EXPECT_EQ(to(say(1, "@carol", text), 3),
              Frames{chat_msg("@alice", "alice", html, kFirstId + 1)});

    // The third distinct recipient is one more than MaxThreads: kicked, nothing delivered.
    Output out = say(1, "@dave", text);
    const auto kicked = presence("alice", kKicked);
    EXPECT_EQ(all(out), (std::vector<Sent>{{1, kicked},
                                           {2, kicked},
                                           {3, kicked},
                                           {4, kicked},
                                           {1, notice(kSpamKickText)},
                                           {1, std::string(kDisconnect)}}));
    ASSERT_EQ(out.effects.size(), 1u);
    const auto r = reports(out);
    ASSERT_EQ(r.size(), 1u);
    expect_report(r[0], "alice", "@dave", "2025-07-02T17:54:20Z", "Spam Detected",
                  "_In a DM to:_ @dave<br>[alice] visit https://example.com/x",
                  "The user was **kicked** from the room with a warning.");
    EXPECT_FALSE(room().is_authenticated(1));
    EXPECT_TRUE(room().who_dirty());
    EXPECT_FALSE(room().is_online("alice"));

    // Back again: the same link once more, to anyone, is a ban.
    Output closed;
    room().disconnect(1, kNow, closed);
    EXPECT_TRUE(closed.deliveries.empty());
    EXPECT_EQ(to(login(5, "alice", kNow + 10s), 5).front(), me("alice"));
    Output again = say(5, "@bob", "again: " + text, kNow + 20s);
    const auto banned = presence("alice", kBanned);
    EXPECT_EQ(all(again), (std::vector<Sent>{{5, banned},
                                             {2, banned},
                                             {3, banned},
                                             {4, banned},
                                             {5, notice(kSpamBanText)},
                                             {5, std::string(kDisconnect)}}));
    const auto r2 = reports(again);
    ASSERT_EQ(r2.size(), 1u);
    expect_report(r2[0], "alice", "@bob", "2025-07-02T17:54:40Z", "Spam Detected",
                  "_In a DM to:_ @bob<br>[alice] again: visit https://example.com/x",
                  "The user was **banned** from chat.");
    EXPECT_FALSE(room().is_authenticated(5));

    // The ban (BanHours, 24 by default) keeps the name out.
    Output refused = login(6, "alice", kNow + 21s);
    EXPECT_EQ(to(refused, 6),
              (Frames{notice(std::string(kBanNotice) + "23h59m59s"), std::string(kDisconnect)}));
    EXPECT_FALSE(room().is_authenticated(6));
}

TEST_F(LinkSpamTest, BanHoursAreConfigurable) {
    cfg.dm_link_spam_protection.ban_hours = 2;
    room_.reset();
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    login(4, "dave");
    say(1, "@bob", "example.org");
    say(1, "@carol", "example.org");
    say(1, "@dave", "example.org");
    EXPECT_FALSE(room().is_authenticated(1));
    login(5, "alice");
    say(5, "@dave", "example.org");
    EXPECT_FALSE(room().is_authenticated(5));
    EXPECT_EQ(to(login(6, "alice", kNow + 1s), 6),
              (Frames{notice(std::string(kBanNotice) + "1h59m59s"), std::string(kDisconnect)}));
    EXPECT_EQ(to(login(7, "alice", kNow + 2h), 7).front(), me("alice"));
}

TEST_F(LinkSpamTest, BareDomainsCount) {
    say(1, "@bob", "see example.com");
    say(1, "@carol", "see example.com");
    Output out = say(1, "@dave", "see example.com");
    EXPECT_EQ(to(out, 1).at(1), notice(kSpamKickText));
    EXPECT_EQ(to(out, 4), Frames{presence("alice", kKicked)});
    const auto r = reports(out);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].message, "_In a DM to:_ @dave<br>[alice] see example.com");
}

TEST_F(LinkSpamTest, ProcessingStopsAtTheFirstTrippingLink) {
    say(1, "@bob", "one.com two.com");
    say(1, "@carol", "two.com");
    Output out = say(1, "@dave", "zzz.net two.com one.com");
    EXPECT_FALSE(room().is_authenticated(1));
    EXPECT_EQ(reports(out).size(), 1u);
    // one.com, after the tripping two.com, was not counted for dave: {bob, carol} is within
    // MaxThreads, so this is delivered and no ban follows.
    login(5, "alice");
    Output next = say(5, "@carol", "one.com");
    EXPECT_EQ(to(next, 3), Frames{chat_msg("@alice", "alice", para("one.com"), kFirstId + 3)});
    EXPECT_TRUE(next.effects.empty());
    EXPECT_TRUE(room().is_authenticated(5));
}

TEST_F(LinkSpamTest, RepeatingTheSameRecipientNeverTrips) {
    for (int i = 0; i < 10; ++i) {
        Output out = say(1, "@bob", "https://example.com");
        ASSERT_EQ(to(out, 2).size(), 1u) << i;
        EXPECT_TRUE(out.effects.empty()) << i;
    }
    // A second recipient is still within MaxThreads = 2.
    EXPECT_EQ(to(say(1, "@carol", "https://example.com"), 3).size(), 1u);
    EXPECT_TRUE(room().is_authenticated(1));
}

TEST_F(LinkSpamTest, DistinctLinksAndPlainTextAreCountedApart) {
    say(1, "@bob", "a.com");
    say(1, "@carol", "b.com");
    Output out = say(1, "@dave", "c.com and hello");
    EXPECT_EQ(to(out, 4).size(), 1u);
    for (SessionId to_id : {2, 3, 4}) {
        const std::string name = room().username_of(to_id);
        EXPECT_EQ(to(say(1, "@" + name, "hello there"), to_id).size(), 1u) << name;
    }
    EXPECT_TRUE(room().is_authenticated(1));
    // Each sender has their own records.
    say(2, "@alice", "a.com");
    say(2, "@carol", "a.com");
    EXPECT_TRUE(room().is_authenticated(2));
}

TEST_F(LinkSpamTest, PublicChannelsAreNotChecked) {
    cfg.dm_link_spam_protection.max_threads = 1;
    room_.reset();
    login(1, "alice");
    login(2, "bob");
    say(1, "lobby", "example.com");
    say(1, "offtopic", "example.com");
    EXPECT_EQ(to(say(1, "@bob", "example.com"), 2).size(), 1u);
    EXPECT_TRUE(room().is_authenticated(1));
}

TEST_F(LinkSpamTest, OperatorsAreCheckedToo) {
    login_op(9, "boss");
    say(9, "@bob", "example.com");
    say(9, "@carol", "example.com");
    Output out = say(9, "@dave", "example.com");
    EXPECT_EQ(to(out, 9).back(), std::string(kDisconnect));
    EXPECT_FALSE(room().is_authenticated(9));
}

TEST_F(LinkSpamTest, RecordsExpireAtTheSweepAfterTheTimeLimit) {
    cfg.dm_link_spam_protection.time_limit = 60;
    room_.reset();
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    login(4, "dave");
    say(1, "@bob", "example.com", kNow);
    say(1, "@carol", "example.com", kNow);
    EXPECT_TRUE(tick(kNow + 30s).deliveries.empty());  // sweeps; the record is 30 s old
    // Past the time limit, but the sweep runs only every 5 minutes: the record still counts.
    tick(kNow + 120s);
    Output kicked = say(1, "@dave", "example.com", kNow + 120s);
    EXPECT_EQ(to(kicked, 1).at(1), notice(kSpamKickText));
    login(5, "alice", kNow + 121s);

    // The next sweep (5 minutes after the last) drops the record and its kick mark.
    tick(kNow + 30s + 5min);
    Output after = say(5, "@dave", "example.com", kNow + 30s + 5min);
    EXPECT_EQ(to(after, 4), Frames{chat_msg("@alice", "alice", para("example.com"), kFirstId + 3)});
    EXPECT_TRUE(after.effects.empty());
    EXPECT_TRUE(room().is_authenticated(5));
}

TEST_F(LinkSpamTest, FreshRecordsSurviveTheSweep) {
    tick(kNow);
    say(1, "@bob", "example.com", kNow + 1s);
    say(1, "@carol", "example.com", kNow + 1s);
    // TimeLimit is an hour by default: a sweep 10 minutes later keeps the record.
    tick(kNow + 10min);
    Output out = say(1, "@dave", "example.com", kNow + 10min);
    EXPECT_EQ(reports(out).size(), 1u);
    EXPECT_FALSE(room().is_authenticated(1));
}

TEST_F(LinkSpamTest, DisabledProtectionDoesNothing) {
    cfg.dm_link_spam_protection.enabled = false;
    room_.reset();
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    login(4, "dave");
    for (int round = 0; round < 2; ++round) {
        for (SessionId r : {2, 3, 4}) {
            Output out = say(1, "@" + room().username_of(r), "https://example.com");
            EXPECT_EQ(to(out, r).size(), 1u);
            EXPECT_TRUE(out.effects.empty());
        }
    }
    EXPECT_TRUE(room().is_authenticated(1));
}

// =======================================================================================
// Chat logs (features.md §7)

TEST_F(ChatLogTest, ListedChannelLogsTheRawText) {
    login(1, "alice");
    login(2, "bob");
    Output out = say(2, "lobby", "**hi** <b>\nthere");
    EXPECT_EQ(logs(out),
              (std::vector<Log>{{"lobby.txt", "2025-07-02T17:54:20Z [bob] **hi** <b>\nthere\n"}}));
    EXPECT_EQ(out.effects.size(), 1u);
    EXPECT_TRUE(say(2, "offtopic", "not logged").effects.empty());
    // Commands are not logged.
    login_op(3, "boss");
    EXPECT_TRUE(say(3, "lobby", "/kick bob").effects.empty());
}

TEST_F(ChatLogTest, NothingIsLoggedWhenDisabled) {
    cfg.logging.enabled = false;
    login(1, "alice");
    login(2, "bob");
    EXPECT_TRUE(say(2, "lobby", "hi").effects.empty());
    EXPECT_TRUE(say(1, "@bob", "hi").effects.empty());
}

TEST_F(ChatLogTest, DmsAreLoggedUnderTheMonitoredUser) {
    login(1, "alice");
    login(2, "bob");
    login(3, "carol");
    EXPECT_EQ(logs(say(1, "@bob", "hi *bob*", kNow + 1s)),
              (std::vector<Log>{{"@alice/bob.txt", "2025-07-02T17:54:21Z [alice] hi *bob*\n"}}));
    EXPECT_EQ(logs(say(2, "@alice", "hi alice", kNow + 2s)),
              (std::vector<Log>{{"@alice/bob.txt", "2025-07-02T17:54:22Z [bob] hi alice\n"}}));
    EXPECT_TRUE(say(2, "@carol", "not monitored").effects.empty());
    // A note to oneself is logged once.
    EXPECT_EQ(logs(say(1, "@alice", "memo")),
              (std::vector<Log>{{"@alice/alice.txt", "2025-07-02T17:54:20Z [alice] memo\n"}}));
}

TEST_F(ChatLogTest, BothMonitoredPartiesGetALine) {
    cfg.logging.usernames = {"bob", "alice"};
    login(1, "alice");
    login(2, "bob");
    const std::string line = "2025-07-02T17:54:20Z [bob] hey\n";
    EXPECT_EQ(logs(say(2, "@alice", "hey")),
              (std::vector<Log>{{"@bob/alice.txt", line}, {"@alice/bob.txt", line}}));
}

TEST_F(ChatLogTest, UndeliveredMessagesAreNotLogged) {
    login(1, "alice");
    login(2, "bob");
    // Offline recipient.
    EXPECT_TRUE(say(1, "@nobody", "hello?").effects.empty());
    // Muted by the recipient.
    send(2, R"({"action":"mute","username":"alice"})");
    EXPECT_TRUE(say(1, "@bob", "hello").effects.empty());
    // Withheld by a filter (public and private).
    room_.reset();
    example_filter();
    login(1, "alice");
    login(2, "bob");
    EXPECT_TRUE(say(1, "lobby", "swear words").effects.empty());
    EXPECT_TRUE(say(1, "@bob", "swear words").effects.empty());
}

TEST_F(ChatLogTest, ForwardedFilteredTextIsLoggedUncensored) {
    example_filter().forward_message = true;
    login(1, "alice");
    login(2, "bob");
    EXPECT_EQ(logs(say(2, "lobby", "swear words")),
              (std::vector<Log>{{"lobby.txt", "2025-07-02T17:54:20Z [bob] swear words\n"}}));
    EXPECT_EQ(logs(say(2, "@alice", "cursing")),
              (std::vector<Log>{{"@alice/bob.txt", "2025-07-02T17:54:20Z [bob] cursing\n"}}));
}

// Every component of a log path is a plain name: no "/" inside one, never "." or "..".
void expect_safe_path(const std::string& file, std::size_t components) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t slash; (slash = file.find('/', start)) != std::string::npos;
         start = slash + 1) {
        parts.push_back(file.substr(start, slash - start));
    }
    parts.push_back(file.substr(start));
    EXPECT_EQ(parts.size(), components) << file;
    for (const auto& p : parts) {
        EXPECT_FALSE(p.empty() || p == "." || p == "..") << file;
        EXPECT_EQ(p.find('\\'), std::string::npos) << file;
    }
}

TEST_F(ChatLogTest, NamesAreMadePathSafe) {
    cfg.logging.usernames = {"../x", ".."};
    cfg.logging.channels = {"../lobby"};
    login(1, "../x");
    login(2, "..");
    ASSERT_TRUE(room().is_online("../x"));
    ASSERT_TRUE(room().is_online(".."));
    const auto dm = logs(say(1, "@..", "hi"));
    EXPECT_EQ(dm, (std::vector<Log>{{"@.._x/_...txt", "2025-07-02T17:54:20Z [../x] hi\n"},
                                    {"@_../.._x.txt", "2025-07-02T17:54:20Z [../x] hi\n"}}));
    for (const auto& [file, line] : dm) expect_safe_path(file, 2);
    const auto ch = logs(say(2, "../lobby", "up"));
    EXPECT_EQ(ch, (std::vector<Log>{{".._lobby.txt", "2025-07-02T17:54:20Z [..] up\n"}}));
    for (const auto& [file, line] : ch) expect_safe_path(file, 1);
}

}  // namespace
