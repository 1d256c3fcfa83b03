// Fuzzes the chat room state machine (chat/room, commands, moderation, shell_words) with a
// sequence of events decoded from the input: client frames through the real parser, chat
// lines (operator slash commands included) from logged-in users, connects, disconnects, pings,
// ticks, who-list flushes, effect results and the web API's room calls, with time moving
// forward. Five sessions start logged in: an operator, a VIP and three plain users (one named
// in a moderation rule). Invariants checked after every event: every delivery goes to a known
// or just-removed session and carries a payload.

#include "auth/jwt.hpp"
#include "chat/protocol.hpp"
#include "chat/room.hpp"
#include "chat/shell_words.hpp"
#include "config/settings.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace barertc;
using chat::ClientMessage;
using chat::Output;
using chat::SessionId;
using chat::Time;
using namespace std::chrono_literals;

constexpr std::string_view kSecret = "fuzz-room-secret";
constexpr std::int64_t kStartUnix = 1751478800;
const Time T0{std::chrono::seconds{kStartUnix}};
constexpr SessionId kSessions = 8;

const std::shared_ptr<const config::Settings>& settings() {
    static const auto s = [] {
        auto cfg = config::default_settings();
        cfg.jwt.secret_key = std::string(kSecret);
        cfg.permit_nsfw = true;
        cfg.limits.logins_per_ip_per_minute = 30;
        cfg.direct_message_history.enabled = true;
        cfg.logging.enabled = true;
        cfg.logging.usernames = {"carol"};
        config::MessageFilter f;
        f.enabled = true;
        f.keyword_phrases = {"\\bswear\\b", "bad(word)?s?", "(?i)spam+"};
        f.forward_message = true;
        f.report_message = true;
        cfg.message_filters.push_back(f);
        config::ModerationRule rule;
        rule.username = "dave";
        rule.camera_always_nsfw = rule.no_broadcast = rule.no_image = true;
        cfg.moderation_rules.push_back(rule);
        cfg.dm_link_spam_protection.max_threads = 2;
        return std::make_shared<const config::Settings>(std::move(cfg));
    }();
    return s;
}

// Tokens are signed once per (name, op, vip), valid for five minutes from the first event's
// time: later logins (after time has moved on) meet expired tokens too.
std::string sign_token(std::string sub, bool op, bool vip, std::int64_t at_unix) {
    auth::Claims c;
    c.sub = std::move(sub);
    c.op = op;
    c.vip = vip;
    c.nick = "Nick " + c.sub;
    c.rules = {"redcam", "noimage"};
    return auth::sign(auth::refreshed(c, at_unix), kSecret);
}

const std::string& token_for(const std::string& sub, bool op, bool vip) {
    static std::map<std::tuple<std::string, bool, bool>, std::string> cache;
    auto key = std::make_tuple(sub, op, vip);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    return cache[key] = sign_token(sub, op, vip, kStartUnix + 60);
}

ClientMessage login_message(std::string name, std::string jwt) {
    ClientMessage m;
    m.action = "login";
    m.username = std::move(name);
    m.jwt = std::move(jwt);
    return m;
}

const char* const kNames[] = {"boss", "vippy", "carol", "dave", "erin", "boss", "", "nobody"};
const char* const kChannels[] = {"lobby", "offtopic", "@boss", "@carol", "@dave", "@nobody", ""};
const char* const kActions[] = {"message",   "me",     "open",  "boot",      "unboot",
                                "mute",      "unmute", "block", "blocklist", "video-invite",
                                "takeback",  "react",  "ping",  "report",    "file",
                                "candidate", "sdp",    "watch", "unwatch",   "expressions",
                                "login",     "bogus"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    chat::Room room(settings(), T0, kStartUnix + 1, 12345);
    Time now = T0 + 60s;
    const auto now_unix = [&] {
        return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    };
    std::vector<bool> connected(kSessions + 1, false);

    auto check = [&](const Output& out) {
        for (const auto& d : out.deliveries) {
            if (!d.payload || d.to == 0 || d.to > kSessions) __builtin_trap();
        }
    };
    // Answers the room's requests as the transport would, with fuzzer-chosen outcomes.
    auto settle = [&](Output& out) {
        check(out);
        for (int round = 0; round < 4 && !out.effects.empty(); ++round) {
            auto effects = std::move(out.effects);
            out = Output{};
            for (auto& e : effects) {
                if (auto* r = std::get_if<chat::effect::ReloadSettings>(&e)) {
                    room.reconfigured(r->requester, in.ConsumeBool() ? "" : "bad toml", out);
                } else if (auto* p = std::get_if<chat::effect::PostReport>(&e)) {
                    if (p->reply_to) {
                        room.report_result(*p->reply_to, in.ConsumeBool() ? "" : "timeout", out);
                    }
                } else if (auto* img = std::get_if<chat::effect::ProcessImage>(&e)) {
                    chat::ImageOutcome o;
                    o.ok = in.ConsumeBool();
                    if (o.ok) {
                        o.html = "<img src=\"data:image/png;base64,AAAA\" width=\"1\">";
                    } else {
                        o.error = "bad image";
                    }
                    room.image_ready(img->from, img->channel, std::move(o), now, out);
                } else if (auto* del = std::get_if<chat::effect::DeleteDirectMessage>(&e)) {
                    if (del->answer) {
                        room.takeback_checked(del->requester, del->msg_id, in.ConsumeBool(), out);
                    }
                }
            }
            check(out);
        }
    };

    for (SessionId id = 1; id <= 5; ++id) {
        room.connect(id, {"10.0.0." + std::to_string(id % 3)});
        connected[id] = true;
        Output out;
        if (id <= 2) {
            room.handle(id, login_message("", token_for(kNames[id - 1], id == 1, id == 2)), now,
                        out);
        } else {
            room.handle(id, login_message(kNames[id - 1], ""), now, out);
        }
        settle(out);
    }

    while (in.remaining_bytes() > 0) {
        const SessionId id = in.ConsumeIntegralInRange<SessionId>(1, kSessions);
        Output out;
        switch (in.ConsumeIntegralInRange<int>(0, 12)) {
            case 0: {  // a raw client frame
                auto parsed = chat::parse_client_message(in.ConsumeRandomLengthString(512));
                if (parsed.message) room.handle(id, std::move(*parsed.message), now, out);
                break;
            }
            case 1:
            case 2: {  // a chat line: the operator's slash commands go through run_command
                ClientMessage m;
                m.action = "message";
                m.channel = in.PickValueInArray(kChannels);
                m.message = in.ConsumeRandomLengthString(256);
                (void)chat::split_shell_words(m.message);
                room.handle(in.ConsumeBool() ? 1 : id, std::move(m), now, out);
                break;
            }
            case 3: {  // another action with a fuzzed target
                ClientMessage m;
                m.action = in.PickValueInArray(kActions);
                m.username = in.ConsumeBool() ? std::string(in.PickValueInArray(kNames))
                                              : in.ConsumeRandomLengthString(16);
                m.channel = in.PickValueInArray(kChannels);
                m.video = in.ConsumeIntegral<std::int64_t>() & 0x3ff;
                m.msg_id = kStartUnix + in.ConsumeIntegralInRange<std::int64_t>(-2, 40);
                m.message = in.ConsumeRandomLengthString(32);
                m.dnd = in.ConsumeBool();
                m.status = in.ConsumeBool() ? "away" : "online";
                if (m.action == "file") {
                    m.bytes = in.ConsumeRandomLengthString(64);
                    m.has_bytes = true;
                }
                if (m.action == "blocklist") m.usernames = {kNames[2], kNames[3], m.username};
                room.handle(id, std::move(m), now, out);
                break;
            }
            case 4:  // (re)connect and log in, maybe with a token
                if (!connected[id]) {
                    room.connect(id, {"10.0.0." + std::to_string(id % 3)});
                    connected[id] = true;
                }
                if (in.ConsumeBool()) {
                    const std::string name = in.PickValueInArray(kNames);
                    const bool op = in.ConsumeBool();
                    const bool vip = in.ConsumeBool();
                    room.handle(
                        id,
                        login_message("", in.ConsumeBool() ? token_for(name, op, vip)
                                                           : sign_token(name, op, vip, now_unix())),
                        now, out);
                } else {
                    room.handle(id, login_message(in.ConsumeRandomLengthString(24), ""), now, out);
                }
                break;
            case 5:
                if (connected[id]) {
                    room.disconnect(
                        id, now, out,
                        in.ConsumeBool() ? chat::presence::kExited : chat::presence::kTimedOut);
                    connected[id] = false;
                }
                break;
            case 6:
                room.ping(id, now, out);
                break;
            case 7:
                room.tick(now, out);
                break;
            case 8:
                room.flush_who(out);
                break;
            case 9:  // time passes (up to two hours: bans, link-spam windows, token expiry)
                now += std::chrono::seconds(in.ConsumeIntegralInRange<int>(0, 7200));
                break;
            case 10: {  // the web API's room calls
                std::vector<std::string> names{in.PickValueInArray(kNames),
                                               in.PickValueInArray(kNames)};
                switch (in.ConsumeIntegralInRange<int>(0, 3)) {
                    case 0:
                        room.block_now(names, now, out);
                        break;
                    case 1:
                        (void)room.disconnect_now(names, in.ConsumeRandomLengthString(32),
                                                  in.ConsumeBool(), now, out);
                        break;
                    case 2: {
                        auth::Claims c;
                        c.sub = names[0];
                        c.op = in.ConsumeBool();
                        c.vip = in.ConsumeBool();
                        (void)room.amend_claims(names[0], c, now, out);
                        break;
                    }
                    default:
                        room.cache_blocklist(names[0], {names[1], "x"});
                }
                break;
            }
            case 11:
                (void)room.statistics();
                room.broadcast_notice(in.ConsumeRandomLengthString(32), out);
                break;
            default:
                room.set_settings(settings());
                break;
        }
        settle(out);
        if (room.online_count() > room.connection_count()) __builtin_trap();
    }
    return 0;
}
