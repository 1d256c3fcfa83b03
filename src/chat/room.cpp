#include "chat/room.hpp"

#include "chat/text_render.hpp"
#include "util/json_writer.hpp"
#include "util/time_format.hpp"

#include <algorithm>
#include <set>

namespace barertc::chat {
namespace {

constexpr std::string_view kMustLogIn = "You must log in first.";
constexpr std::string_view kAuthExpired =
    "Your authentication has expired. Please go back and launch the chat room again.";
constexpr std::string_view kAuthRequired =
    "Server side authentication is required. Please go back and launch the chat room from "
    "your logged-in account.";
constexpr std::string_view kSignedOutElsewhere =
    "You have been signed out of chat because you logged in from another location.";
constexpr std::string_view kBanned =
    "You are currently banned from entering the chat room. Chat room bans are temporary and "
    "usually last for 24 hours.<br><br>Your ban expires in: ";
constexpr std::string_view kTooFast =
    "You are sending messages too quickly. Please slow down: your last message was not sent.";
constexpr std::string_view kNotYourMessage = "That is not your message to take back.";
constexpr std::string_view kNoPermission = "You do not have permission to view that camera.";

const Payload& disconnect_payload() {
    static const Payload p = make_payload(R"({"action":"disconnect"})");
    return p;
}

const Payload& plain_ping_payload() {
    static const Payload p = make_payload(R"({"action":"ping"})");
    return p;
}

const Payload& cut_payload() {
    static const Payload p = make_payload(R"({"action":"cut"})");
    return p;
}

std::string jwt_rules_json(const auth::Claims& c) {
    const bool no_video = c.has_rule("novideo");
    std::string out;
    json::ObjectWriter w(out);
    w.field("IsNoBroadcastRule", no_video || c.has_rule("nobroadcast"));
    w.field("IsNoDarkVideoRule", c.has_rule("nodvd"));
    w.field("IsNoImageRule", c.has_rule("noimage"));
    w.field("IsNoVideoRule", no_video);
    w.field("IsRedCamRule", c.has_rule("redcam"));
    w.close();
    return out;
}

}  // namespace

Room::Room(std::shared_ptr<const config::Settings> settings, Time started_at,
           std::int64_t first_message_id, std::uint64_t seed)
    : settings_(std::move(settings)),
      started_at_(started_at),
      next_message_id_(first_message_id),
      rng_(seed) {
    compile_filters();
}

void Room::set_settings(std::shared_ptr<const config::Settings> settings) {
    settings_ = std::move(settings);
    compile_filters();
}

const std::unordered_map<std::string_view, Room::Handler>& Room::handlers() {
    static const std::unordered_map<std::string_view, Handler> table{
        {"login", &Room::on_login},
        {"message", &Room::on_message},
        {"me", &Room::on_me},
        {"open", &Room::on_open},
        {"candidate", &Room::on_relay},
        {"sdp", &Room::on_relay},
        {"watch", &Room::on_relay},
        {"unwatch", &Room::on_relay},
        {"boot", &Room::on_boot},
        {"unboot", &Room::on_unboot},
        {"mute", &Room::on_mute},
        {"unmute", &Room::on_unmute},
        {"block", &Room::on_block},
        {"blocklist", &Room::on_blocklist},
        {"video-invite", &Room::on_video_invite},
        {"takeback", &Room::on_takeback},
        {"react", &Room::on_react},
        {"ping", &Room::on_ping},
        {"report", &Room::on_report},
        {"file", &Room::on_file},
    };
    return table;
}

// ---------------------------------------------------------------------------------------
// Lookups

Room::Subscriber* Room::find(SessionId id) {
    auto it = subscribers_.find(id);
    return it == subscribers_.end() ? nullptr : &it->second;
}

const Room::Subscriber* Room::find(SessionId id) const {
    auto it = subscribers_.find(id);
    return it == subscribers_.end() ? nullptr : &it->second;
}

// Only authenticated sessions are addressable by name (protocol.md §22.9).
Room::Subscriber* Room::find_online(std::string_view username) {
    if (username.empty()) return nullptr;
    auto it = by_name_.find(username);
    return it == by_name_.end() ? nullptr : find(it->second);
}

const Room::Subscriber* Room::find_online(std::string_view username) const {
    if (username.empty()) return nullptr;
    auto it = by_name_.find(username);
    return it == by_name_.end() ? nullptr : find(it->second);
}

bool Room::is_authenticated(SessionId id) const {
    const auto* s = find(id);
    return s && s->authenticated;
}

std::string Room::username_of(SessionId id) const {
    const auto* s = find(id);
    return s ? s->username : std::string();
}

// ---------------------------------------------------------------------------------------
// Connection lifecycle

void Room::connect(SessionId id, ConnectionInfo info) {
    Subscriber s;
    s.id = id;
    s.info = std::move(info);
    subscribers_.emplace(id, std::move(s));
}

void Room::disconnect(SessionId id, Time now, Output& out, std::string_view presence_text) {
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;
    Subscriber& s = it->second;
    const bool announce = s.authenticated && s.status != "hidden";
    const std::string name = s.username;
    if (s.authenticated) by_name_.erase(s.username);
    drop_relations(s);
    subscribers_.erase(it);
    // After removal: there is no subject session any more, so blocked users see the exit
    // too (protocol.md §18).
    if (announce) {
        broadcast_presence(name, presence_text, now, out);
        mark_who_dirty(now);
    }
}

void Room::deauthenticate(Subscriber& s) {
    if (s.authenticated) by_name_.erase(s.username);
    s.authenticated = false;
    s.username.clear();
    // A signed-out or kicked socket must not keep receiving freshly signed tokens in pings.
    s.claims.reset();
}

void Room::handle(SessionId id, ClientMessage msg, Time now, Output& out) {
    Subscriber* s = find(id);
    if (!s) return;
    const auto& table = handlers();
    auto it = table.find(msg.action);
    if (it == table.end()) {
        out.send(id, chat_server_notice("Unsupported message type: " + msg.action));
        return;
    }
    // Before login only what the page sends on (re)connect is accepted (protocol.md §22.4).
    static const std::set<std::string_view> kBeforeLogin{
        "login", "ping", "blocklist", "mute", "unmute", "boot", "unboot", "video-invite"};
    if (!s->authenticated && !kBeforeLogin.contains(msg.action)) {
        out.send(id, chat_server_notice(kMustLogIn));
        return;
    }
    (this->*(it->second))(*s, msg, now, out);
}

void Room::ping(SessionId id, Time now, Output& out) {
    const Subscriber* s = find(id);
    if (!s) return;
    if (!s->claims) {
        out.send(id, plain_ping_payload());
        return;
    }
    const auto claims = auth::refreshed(*s->claims, timefmt::unix_seconds(now));
    const std::string token = auth::sign(claims, settings_->jwt.secret_key);
    const std::string rules = jwt_rules_json(*s->claims);
    out.send(id,
             make_payload(
                 OutMessage{.action = "ping", .jwt = token, .jwt_rules_json = rules}.serialize()));
}

void Room::tick(Time now, Output& /*out*/) {
    sweep_link_spam(now);
    std::erase_if(login_attempts_, [&](const auto& kv) {
        return kv.second.empty() || now - kv.second.back() >= std::chrono::minutes(1);
    });
    if (!grace_round_done_ && now >= started_at_ + kWhoGraceRound) {
        grace_round_done_ = true;
        if (!by_name_.empty()) {
            who_dirty_ = true;
            ++who_changes_;
        }
    }
}

void Room::mark_who_dirty(Time now) {
    if (in_grace(now, kWhoGrace)) return;
    who_dirty_ = true;
    ++who_changes_;
}

// ---------------------------------------------------------------------------------------
// Login (protocol.md §5.1, §7, §8)

std::string Room::rename_if_taken(const std::string& name, SessionId self) const {
    auto taken = [&](const std::string& candidate) {
        auto it = by_name_.find(candidate);
        return it != by_name_.end() && it->second != self;
    };
    if (!taken(name)) return name;
    for (int n = 2;; ++n) {
        std::string candidate = name + " " + std::to_string(n);
        if (!taken(candidate)) return candidate;
    }
}

bool Room::allow_login_attempt(const Subscriber& s, Time now) {
    const auto limit = settings_->limits.logins_per_ip_per_minute;
    if (limit <= 0) return true;
    auto& attempts = login_attempts_[s.info.remote_address];
    while (!attempts.empty() && now - attempts.front() >= std::chrono::minutes(1)) {
        attempts.pop_front();
    }
    if (static_cast<std::int64_t>(attempts.size()) >= limit) return false;
    attempts.push_back(now);
    return true;
}

void Room::on_login(Subscriber& s, ClientMessage& m, Time now, Output& out) {
    const auto& cfg = *settings_;
    if (!allow_login_attempt(s, now)) {
        out.send(s.id, chat_server_notice("Too many login attempts from your address. Please "
                                          "wait a minute and try again."));
        return;
    }
    std::optional<auth::Claims> claims;
    std::string name = m.username;
    if (!m.jwt.empty() || (cfg.jwt.enabled && cfg.jwt.strict)) {
        if (m.jwt.empty()) {
            out.send(s.id, chat_server_notice(kAuthRequired));
            return;
        }
        auto verified = auth::verify(m.jwt, cfg.jwt.secret_key, timefmt::unix_seconds(now));
        if (!verified.ok) {
            out.send(s.id, chat_server_notice(kAuthExpired));
            return;
        }
        claims = std::move(verified.claims);
        name = claims->sub;
    }
    if (name.empty()) name = "anonymous";

    // A repeated login on the same connection keeps its own name: it is not "another
    // location".
    if (s.authenticated) {
        by_name_.erase(s.username);
        s.authenticated = false;
    }

    // Only a token that names its user (`sub`) claims that name; a valid token without `sub`
    // logs in as "anonymous" and is renamed like a guest (protocol.md §8, as the original).
    if (claims && !claims->sub.empty()) {
        if (Subscriber* older = find_online(name); older && older->id != s.id) {
            out.send(older->id, chat_server_notice(kSignedOutElsewhere));
            out.send(older->id, disconnect_payload());
            deauthenticate(*older);
            mark_who_dirty(now);
        }
    } else {
        name = rename_if_taken(name, s.id);
    }

    if (auto ban = bans_.find(name); ban != bans_.end()) {
        if (ban->second > now) {
            out.send(s.id, chat_server_notice(std::string(kBanned) +
                                              timefmt::go_duration(ban->second - now)));
            out.send(s.id, disconnect_payload());
            s.username.clear();
            return;
        }
        bans_.erase(ban);
    }

    s.username = name;
    s.authenticated = true;
    s.claims = std::move(claims);
    s.dnd = m.dnd;
    s.login_at = timefmt::unix_seconds(now);
    by_name_[name] = s.id;

    // Beyond the original: the host site's cached blocklist (api.md §8) is applied at a
    // token login even when the client does not send it itself.
    if (s.claims) {
        if (auto cached = cached_blocklists_.find(name); cached != cached_blocklists_.end()) {
            for (const auto& other : cached->second) {
                if (other.empty() || other == name) continue;
                add_relation(s.muted, other);
                add_relation(s.blocked, other);
            }
        }
    }
    send_login_burst(s, now, out);
}

void Room::send_login_burst(Subscriber& s, Time now, Output& out) {
    const auto& cfg = *settings_;
    out.send(s.id,
             make_payload(
                 OutMessage{.action = "me", .username = s.username, .video = s.video}.serialize()));
    mark_who_dirty(now);

    // Echo of recent public messages, minus those from users this joiner mutes or blocks and
    // VIP channels for non-VIPs (features.md §1, the recommended behaviour).
    const bool sees_vip = s.is_vip() || s.is_op();
    std::string messages;
    for (const auto& channel : cfg.public_channels) {
        if (channel.vip && !sees_vip) continue;
        auto it = echo_.find(channel.id);
        if (it == echo_.end()) continue;
        for (const auto& e : it->second) {
            if (s.muted.contains(e.username) || s.blocked.contains(e.username)) continue;
            messages.push_back(messages.empty() ? '[' : ',');
            const std::string ts = timefmt::rfc3339_local(e.unix_time);
            messages += OutMessage{.action = "message",
                                   .channel = e.channel,
                                   .username = e.username,
                                   .message = e.message,
                                   .msg_id = e.msg_id,
                                   .timestamp = ts}
                            .serialize();
        }
    }
    if (!messages.empty()) messages.push_back(']');
    out.send(s.id,
             make_payload(OutMessage{.action = "echo", .messages_json = messages}.serialize()));

    broadcast_presence(s.username, presence::kJoined, now, out);

    for (const auto& channel : cfg.public_channels) {
        for (const auto& text : channel.welcome_messages) {
            const std::string html = render_markdown_html(text);
            if (!html.empty()) out.send(s.id, chat_server_notice(html, channel.id));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Chat messages (protocol.md §5.2, §13)

bool Room::allow_message_rate(Subscriber& s, Time now) {
    const auto& limits = settings_->limits;
    if (limits.messages_per_second <= 0) return true;
    const double burst = static_cast<double>(std::max<std::int64_t>(limits.message_burst, 1));
    auto& b = s.rate;
    if (!b.primed) {
        b.tokens = burst;
        b.last = now;
        b.primed = true;
    }
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    if (elapsed > 0) {
        b.tokens =
            std::min(burst, b.tokens + elapsed * static_cast<double>(limits.messages_per_second));
        b.last = now;
    }
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

void Room::on_message(Subscriber& s, ClientMessage& m, Time now, Output& out) {
    if (s.username.empty()) {
        out.send(s.id, chat_server_notice(kMustLogIn));
        return;
    }
    // [Limits] MaxMessageLength, in characters (UTF-8 code points); 0 = no limit.
    if (const auto limit = settings_->limits.max_message_length; limit > 0) {
        const auto length = std::count_if(m.message.begin(), m.message.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        });
        if (length > limit) {
            out.send(s.id,
                     chat_server_notice("Your message is too long (" + std::to_string(length) +
                                        " characters; the limit is " + std::to_string(limit) +
                                        "). It was not sent."));
            return;
        }
    }
    // Commands are not rate limited (commands.md §1).
    if (m.message.starts_with('/') && run_command(s, m.message, now, out)) return;
    if (!allow_message_rate(s, now)) {
        out.send(s.id, chat_server_notice(kTooFast));
        return;
    }
    std::string html = render_message_html(m.message);
    if (html.empty()) return;
    record_context(context_key(m.channel, s.username), s.username, m.message, now);

    const std::int64_t msg_id = next_message_id_++;
    s.owned_messages.insert(msg_id);

    if (!apply_filters(s, m, html, msg_id, now, out)) return;

    if (m.channel.starts_with('@')) {
        if (link_spam_tripped(s, m, now, out)) return;
        send_direct_message(s, m, std::move(html), msg_id, now, out);
        return;
    }
    log_channel(m.channel, s.username, m.message, now, out);

    auto payload = make_payload(OutMessage{.action = "message",
                                           .channel = m.channel,
                                           .username = s.username,
                                           .message = html,
                                           .msg_id = msg_id}
                                    .serialize());
    if (const auto* channel = settings_->find_channel(m.channel);
        channel && channel->echo_messages_on_join > 0) {
        auto& buffer = echo_[channel->id];
        buffer.push_back({channel->id, s.username, html, msg_id, timefmt::unix_seconds(now)});
        while (static_cast<std::int64_t>(buffer.size()) > channel->echo_messages_on_join) {
            buffer.pop_front();
        }
    }
    broadcast(s.username, m.channel, payload, out);
}

void Room::send_direct_message(Subscriber& s, const ClientMessage& m, std::string html,
                               std::int64_t msg_id, Time now, Output& out) {
    const std::string_view to_name = std::string_view(m.channel).substr(1);
    // The sender's copy comes first, before any delivery check (protocol.md §13).
    out.send(s.id, make_payload(OutMessage{.action = "message",
                                           .channel = m.channel,
                                           .username = s.username,
                                           .message = html,
                                           .msg_id = msg_id}
                                    .serialize()));
    Subscriber* r = find_online(to_name);
    if (!r) {
        out.send(s.id, chat_server_notice("Could not deliver your message: " + m.channel +
                                          " appears not to be online."));
        return;
    }
    if (r->muted.contains(s.username) && !s.is_op()) return;
    if (s.muted.contains(r->username) && !s.is_op()) {
        out.send(s.id, chat_server_notice("You have muted " + r->username +
                                          " and so your message has not been sent."));
        return;
    }
    if (is_blocked(s, *r)) return;
    log_direct(s.username, r->username, m.message, now, out);
    if (settings_->direct_message_history.enabled) {
        out.effects.push_back(effect::StoreDirectMessage{.msg_id = msg_id,
                                                         .from = s.username,
                                                         .to = r->username,
                                                         .html = html,
                                                         .unix_time = timefmt::unix_seconds(now)});
    }
    const std::string from_channel = "@" + s.username;
    out.send(r->id, make_payload(OutMessage{.action = "message",
                                            .channel = from_channel,
                                            .username = s.username,
                                            .message = html,
                                            .msg_id = msg_id}
                                     .serialize()));
}

// Delivers a broadcast to every authenticated user allowed to see it (protocol.md §9).
void Room::broadcast(std::string_view subject, std::string_view channel, const Payload& payload,
                     Output& out) const {
    const Subscriber* subj = find_online(subject);
    const std::string subject_name(subject);
    const bool referenced = !subject.empty() && referenced_.contains(subject_name);
    const bool subject_blocks = subj && !subj->blocked.empty();
    const auto* ch = channel.empty() ? nullptr : settings_->find_channel(channel);
    const bool vip_only = ch && ch->vip;
    out.deliveries.reserve(out.deliveries.size() + by_name_.size());
    for (const auto& [name, id] : by_name_) {
        const Subscriber& r = subscribers_.at(id);
        if (referenced && r.muted.contains(subject_name)) continue;
        if (subj && (referenced || subject_blocks) && is_blocked(*subj, r)) continue;
        if (vip_only && !(r.is_vip() || r.is_op())) continue;
        out.send(id, payload);
    }
}

void Room::broadcast_presence(std::string_view username, std::string_view text, Time now,
                              Output& out) {
    if (in_grace(now, kPresenceGrace)) return;
    auto payload = make_payload(
        OutMessage{.action = "presence", .username = username, .message = text}.serialize());
    broadcast(username, {}, payload, out);
}

// ---------------------------------------------------------------------------------------
// Own state (protocol.md §5.4, §15)

config::ModerationRule Room::effective_rule(const Subscriber& s) const {
    config::ModerationRule rule;
    for (const auto& r : settings_->moderation_rules) {
        if (r.username == s.username) {
            rule = r;
            break;
        }
    }
    if (s.claims) {
        if (s.claims->has_rule("redcam")) rule.camera_always_nsfw = true;
        if (s.claims->has_rule("novideo")) rule.no_video = rule.no_broadcast = true;
        if (s.claims->has_rule("nobroadcast")) rule.no_broadcast = true;
        if (s.claims->has_rule("nodvd")) rule.no_dark_video = true;
    }
    return rule;
}

void Room::on_me(Subscriber& s, ClientMessage& m, Time now, Output& out) {
    const auto& strings = settings_->strings;
    std::int64_t video = m.video;
    bool reflect_me = false;
    if (m.video & video::kActive) {
        const auto rule = effective_rule(s);
        if (rule.no_broadcast || rule.no_video) {
            out.send(s.id, cut_payload());
            out.send(s.id, chat_server_notice(strings.mod_rule_error_no_broadcast));
            video = 0;
        }
        if (rule.camera_always_nsfw && !(m.video & video::kNsfw)) {
            video |= video::kNsfw;
            out.send(s.id, chat_server_notice(strings.mod_rule_error_camera_always_nsfw));
            reflect_me = true;
        }
    }

    std::string status = m.status;
    if (status == "hidden" && !s.is_op()) status = "away";
    if (status == "hidden" && s.status != "hidden") {
        broadcast_presence(s.username, presence::kExited, now, out);
    } else if (status != "hidden" && s.status == "hidden") {
        broadcast_presence(s.username, presence::kJoined, now, out);
    }

    s.video = video;
    s.status = std::move(status);
    s.dnd = m.dnd;
    mark_who_dirty(now);
    if (reflect_me) {
        out.send(
            s.id,
            make_payload(
                OutMessage{.action = "me", .username = s.username, .video = s.video}.serialize()));
    }
}

// ---------------------------------------------------------------------------------------
// Cameras (protocol.md §5.5–5.7, §11)

void Room::on_open(Subscriber& s, ClientMessage& m, Time /*now*/, Output& out) {
    if (effective_rule(s).no_video) {
        out.send(s.id, chat_server_notice(settings_->strings.mod_rule_error_no_video));
        return;
    }
    const Subscriber* b = find_online(m.username);
    if (!b) {
        out.send(s.id, chat_server_notice("Could not open that video: " + m.username +
                                          " appears to be offline."));
        return;
    }
    const bool invited = b->invited.contains(s.username);
    std::string refusal;
    if (!(b->video & video::kActive)) {
        refusal = "Their video is not currently enabled.";
    } else if (!invited && (b->video & video::kMutualRequired) && !(s.video & video::kActive)) {
        refusal = b->username +
                  " has requested that you should share your own camera too before opening "
                  "theirs.";
    } else if (!invited && (b->video & video::kOnlyVip) && !(s.is_vip() || s.is_op())) {
        refusal = kNoPermission;
    } else if ((b->muted.contains(s.username) || b->booted.contains(s.username) ||
                is_blocked(*b, s)) &&
               !s.is_op()) {
        refusal = kNoPermission;
    }
    if (!refusal.empty()) {
        out.send(s.id, chat_server_notice("Could not open that video: " + refusal));
        return;
    }

    std::string secret(16, 'a');
    std::uniform_int_distribution<int> letter(0, 25);
    for (char& c : secret) c = static_cast<char>('a' + letter(rng_));

    if (s.is_op()) {
        if (b->booted.contains(s.username)) {
            out.send(s.id, chat_server_notice("Note: " + b->username +
                                              " had booted you off their camera before, and "
                                              "won't be notified of your watch."));
        } else if (b->muted.contains(s.username)) {
            out.send(s.id, chat_server_notice("Note: " + b->username +
                                              " had muted you before, and won't be notified of "
                                              "your watch."));
        }
    }
    out.send(b->id, make_payload(
                        OutMessage{.action = "ring", .username = s.username, .open_secret = secret}
                            .serialize()));
    out.send(s.id, make_payload(
                       OutMessage{.action = "open", .username = b->username, .open_secret = secret}
                           .serialize()));
}

// candidate, sdp, watch, unwatch: relayed to the named user as coming from the sender, with
// only the field that action carries (protocol.md §5.6: no other fields).
void Room::on_relay(Subscriber& s, ClientMessage& m, Time /*now*/, Output& out) {
    const Subscriber* target = find_online(m.username);
    if (!target) return;
    out.send(target->id,
             make_payload(OutMessage{.action = m.action,
                                     .username = s.username,
                                     .candidate = m.action == "candidate" ? m.candidate : "",
                                     .description = m.action == "sdp" ? m.description : ""}
                              .serialize()));
}

void Room::on_boot(Subscriber& s, ClientMessage& m, Time now, Output& out) {
    if (m.username.empty()) return;
    add_relation(s.booted, m.username);
    if (const Subscriber* t = find_online(m.username); t && t->is_op() && s.authenticated) {
        out.send(t->id, chat_server_notice(s.username + " has booted you off of their camera!"));
    }
    if (s.authenticated) mark_who_dirty(now);
}

void Room::on_unboot(Subscriber& s, ClientMessage& m, Time now, Output& /*out*/) {
    remove_relation(s.booted, m.username);
    if (s.authenticated) mark_who_dirty(now);
}

void Room::on_mute(Subscriber& s, ClientMessage& m, Time now, Output& out) {
    if (m.username.empty()) return;
    add_relation(s.muted, m.username);
    if (const Subscriber* t = find_online(m.username); t && t->is_op() && s.authenticated) {
        out.send(t->id,
                 chat_server_notice(s.username + " has muted you! Your new mute status is: true"));
    }
    if (s.authenticated) mark_who_dirty(now);
}

void Room::on_unmute(Subscriber& s, ClientMessage& m, Time now, Output& out) {
    remove_relation(s.muted, m.username);
    if (const Subscriber* t = find_online(m.username); t && t->is_op() && s.authenticated) {
        out.send(t->id,
                 chat_server_notice(s.username + " has muted you! Your new mute status is: false"));
    }
    if (s.authenticated) mark_who_dirty(now);
}

void Room::on_block(Subscriber& s, ClientMessage& m, Time now, Output& out) {
    if (m.username.empty()) return;
    if (const Subscriber* t = find_online(m.username); t && t->is_op()) {
        out.send(s.id, chat_server_notice("You are not allowed to block a chat operator."));
        return;
    }
    add_relation(s.blocked, m.username);
    if (s.authenticated) mark_who_dirty(now);
}

void Room::on_blocklist(Subscriber& s, ClientMessage& m, Time now, Output& /*out*/) {
    for (const auto& name : m.usernames) {
        if (name.empty()) continue;
        add_relation(s.muted, name);
        add_relation(s.blocked, name);
    }
    if (s.authenticated) mark_who_dirty(now);
}

void Room::on_video_invite(Subscriber& s, ClientMessage& m, Time now, Output& /*out*/) {
    for (const auto& name : m.usernames) {
        if (!name.empty()) add_relation(s.invited, name);
    }
    if (s.authenticated) mark_who_dirty(now);
}

// ---------------------------------------------------------------------------------------
// Take-backs and reactions (protocol.md §5.12, §5.13, §12)

void Room::on_takeback(Subscriber& s, ClientMessage& m, Time /*now*/, Output& out) {
    const bool history = settings_->direct_message_history.enabled;
    const bool permitted = s.is_op() || s.owned_messages.contains(m.msg_id);
    if (history) {
        // The stored copy goes too; a user may also take back a DM of an earlier session,
        // which only the database can confirm.
        out.effects.push_back(effect::DeleteDirectMessage{.requester = s.id,
                                                          .msg_id = m.msg_id,
                                                          .username = s.username,
                                                          .is_operator = s.is_op(),
                                                          .answer = !permitted});
        if (!permitted) return;
    }
    if (!permitted) {
        out.send(s.id, chat_server_notice(kNotYourMessage));
        return;
    }
    take_back(m.msg_id, out);
}

void Room::takeback_checked(SessionId requester, std::int64_t msg_id, bool deleted, Output& out) {
    if (!find(requester)) return;
    if (!deleted) {
        out.send(requester, chat_server_notice(kNotYourMessage));
        return;
    }
    take_back(msg_id, out);
}

void Room::take_back(std::int64_t msg_id, Output& out) {
    for (auto& [channel, buffer] : echo_) {
        std::erase_if(buffer, [&](const EchoEntry& e) { return e.msg_id == msg_id; });
    }
    auto payload = make_payload(OutMessage{.action = "takeback", .msg_id = msg_id}.serialize());
    for (const auto& [name, id] : by_name_) out.send(id, payload);
}

void Room::on_react(Subscriber& s, ClientMessage& m, Time /*now*/, Output& out) {
    auto payload = make_payload(OutMessage{
        .action = "react", .username = s.username, .message = m.message, .msg_id = m.msg_id}
                                    .serialize());
    broadcast(s.username, {}, payload, out);
}

std::string Room::context_key(std::string_view channel, std::string_view sender) {
    if (!channel.starts_with('@')) return std::string(channel);
    std::string_view a = sender, b = channel.substr(1);
    if (b < a) std::swap(a, b);
    return "@" + std::string(a) + ":" + std::string(b);
}

void Room::record_context(const std::string& key, std::string_view sender, std::string_view text,
                          Time now) {
    // "YYYY-MM-DD HH:MM:SS" of the local time, then the sender and the trimmed raw text.
    std::string stamp = timefmt::rfc3339_local(timefmt::unix_seconds(now)).substr(0, 19);
    stamp[10] = ' ';
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = text.find_first_not_of(kSpace);
    const auto last = text.find_last_not_of(kSpace);
    const std::string_view trimmed =
        first == std::string_view::npos ? std::string_view() : text.substr(first, last - first + 1);
    auto& lines = context_[key];
    lines.push_back(stamp + " [" + std::string(sender) + "] " + std::string(trimmed));
    while (lines.size() > kContextLines) lines.pop_front();
}

std::string Room::context_text(const std::string& key) const {
    auto it = context_.find(key);
    if (it == context_.end() || it->second.empty()) {
        return "(No recent message history in this channel)";
    }
    std::string text;
    for (const auto& line : it->second) {
        if (!text.empty()) text += "\n\n";
        text += line;
    }
    return text;
}

// protocol.md §5.14: a report goes to the host website; the reporter learns the outcome.
void Room::on_report(Subscriber& s, ClientMessage& m, Time /*now*/, Output& out) {
    const auto* hook = settings_->find_webhook("report");
    if (!hook || !hook->enabled) {
        out.send(s.id, chat_server_notice("Unfortunately, the report webhook is not enabled so "
                                          "your report could not be received!"));
        return;
    }
    std::string message = m.message;
    if (m.channel.starts_with('@')) {
        message += "\n\nRecent message context:\n\n" +
                   context_text(context_key("@" + m.username, s.username));
    }
    out.effects.push_back(effect::PostReport{.from_username = s.username,
                                             .about_username = m.username,
                                             .channel = m.channel,
                                             .timestamp = m.timestamp,
                                             .reason = m.reason,
                                             .message = std::move(message),
                                             .comment = m.comment,
                                             .reply_to = s.id});
}

// protocol.md §14: checks here, decoding on a worker (effect::ProcessImage), delivery in
// image_ready().
void Room::on_file(Subscriber& s, ClientMessage& m, Time now, Output& out) {
    if (s.username.empty()) {
        out.send(s.id, chat_server_notice(kMustLogIn));
        return;
    }
    // Only the server's own rules: the JWT `noimage` rule is enforced by the page.
    for (const auto& rule : settings_->moderation_rules) {
        if (rule.username == s.username && rule.no_image) {
            out.send(s.id, chat_server_notice(settings_->strings.mod_rule_error_no_image));
            return;
        }
    }
    if (!allow_message_rate(s, now)) {
        out.send(s.id, chat_server_notice(kTooFast));
        return;
    }
    out.effects.push_back(effect::ProcessImage{
        .from = s.id, .channel = m.channel, .filename = m.message, .bytes = std::move(m.bytes)});
}

void Room::image_ready(SessionId from, const std::string& channel, ImageOutcome result,
                       Time /*now*/, Output& out) {
    Subscriber* s = find(from);
    if (!s || !s->authenticated) return;
    if (!result.ok) {
        out.send(s->id, chat_server_notice(result.error));
        return;
    }
    const std::int64_t msg_id = next_message_id_++;
    s->owned_messages.insert(msg_id);
    if (channel.starts_with('@')) {
        send_direct_image(*s, channel, result.html, msg_id, out);
        return;
    }
    // Images are not kept for the echo, logged or filtered (protocol.md §5.3).
    broadcast(s->username, channel,
              make_payload(OutMessage{.action = "message",
                                      .channel = channel,
                                      .username = s->username,
                                      .message = result.html,
                                      .msg_id = msg_id}
                               .serialize()),
              out);
}

// An image DM (protocol.md §14 step 7): like a text DM, but mutes are not bypassed by
// operators, and an offline recipient gets the notice instead of crashing the server.
void Room::send_direct_image(Subscriber& s, const std::string& channel, const std::string& html,
                             std::int64_t msg_id, Output& out) {
    out.send(s.id, make_payload(OutMessage{.action = "message",
                                           .channel = channel,
                                           .username = s.username,
                                           .message = html,
                                           .msg_id = msg_id}
                                    .serialize()));
    Subscriber* r = find_online(std::string_view(channel).substr(1));
    if (!r) {
        out.send(s.id, chat_server_notice("Could not deliver your message: " + channel +
                                          " appears not to be online."));
        return;
    }
    if (r->muted.contains(s.username)) return;
    if (s.muted.contains(r->username)) {
        out.send(s.id, chat_server_notice("You have muted " + r->username +
                                          " and so your message has not been sent."));
        return;
    }
    if (is_blocked(s, *r)) return;
    out.send(r->id, make_payload(OutMessage{.action = "message",
                                            .channel = "@" + s.username,
                                            .username = s.username,
                                            .message = html,
                                            .msg_id = msg_id}
                                     .serialize()));
}

void Room::report_result(SessionId reporter, const std::string& error, Output& out) {
    if (!find(reporter)) return;
    out.send(reporter, chat_server_notice(
                           error.empty() ? "Your report has been delivered successfully."
                                         : "Error sending the report to the website: " + error));
}

void Room::on_ping(Subscriber&, ClientMessage&, Time, Output&) {
    // A client's ping needs no answer; the server's own pings keep the connection alive.
}

// ---------------------------------------------------------------------------------------
// Relations (protocol.md §9)

bool Room::is_blocked(const Subscriber& a, const Subscriber& b) const {
    if (!settings_->blockable_admins && (a.is_op() || b.is_op())) return false;
    if ((a.is_op() && a.unblockable) || (b.is_op() && b.unblockable)) return false;
    return a.blocked.contains(b.username) || b.blocked.contains(a.username);
}

void Room::add_relation(std::unordered_set<std::string>& set, const std::string& name) {
    if (set.insert(name).second) ++referenced_[name];
}

void Room::remove_relation(std::unordered_set<std::string>& set, const std::string& name) {
    if (set.erase(name) == 0) return;
    auto it = referenced_.find(name);
    if (it != referenced_.end() && --it->second <= 0) referenced_.erase(it);
}

void Room::drop_relations(Subscriber& s) {
    for (auto* set : {&s.muted, &s.blocked, &s.booted, &s.invited}) {
        for (const auto& name : *set) {
            auto it = referenced_.find(name);
            if (it != referenced_.end() && --it->second <= 0) referenced_.erase(it);
        }
        set->clear();
    }
}

bool Room::has_relations(const Subscriber& s) const {
    return !s.blocked.empty() || referenced_.contains(s.username) ||
           (!s.is_vip() && (s.video & video::kOnlyVip));
}

// ---------------------------------------------------------------------------------------
// Who list (protocol.md §10)

std::int64_t Room::who_video_for(const Subscriber& u, const Subscriber& r) const {
    std::int64_t v = u.video;
    if (u.booted.contains(r.username) || u.muted.contains(r.username)) {
        v = r.is_op() ? (v ^ video::kMutualOpen) : 0;
    } else if (u.invited.contains(r.username)) {
        v |= video::kInvited;
    }
    if ((u.video & video::kOnlyVip) && !r.is_vip()) v = 0;
    return v;
}

void Room::append_who_entry(std::string& out, const Subscriber& u, std::int64_t video,
                            bool show_vip) const {
    json::ObjectWriter w(out);
    w.field("username", u.username);
    const auto* c = u.claims ? &*u.claims : nullptr;
    if (c) w.field_nonempty("nickname", c->nick);
    w.field("status", u.status);
    w.field("video", video);
    w.field_true("dnd", u.dnd);
    w.field("loginAt", u.login_at);
    w.field("op", c && c->op);
    if (c) {
        w.field_true("vip", show_vip && c->vip);
        w.field_nonempty("avatar", c->img);
        w.field_nonempty("profileURL", c->url);
        w.field_nonempty("emoji", c->emoji);
        w.field_nonempty("gender", c->gender);
    }
    w.close();
}

void Room::flush_who(Output& out) {
    who_dirty_ = false;
    if (by_name_.empty()) return;
    const bool mutually_secret = settings_->vip.mutually_secret;

    // Each visible user's entry as a VIP recipient sees it ([1]) and as anyone else does
    // ([0]); most recipients get one of two lists built from these, serialized once.
    struct Entry {
        const Subscriber* user;
        std::string plain[2];
    };
    std::vector<Entry> entries;
    entries.reserve(by_name_.size());
    for (const auto& [name, id] : by_name_) {
        const Subscriber& u = subscribers_.at(id);
        if (u.status == "hidden") continue;
        Entry e{&u, {}};
        append_who_entry(e.plain[1], u, u.video, true);
        const std::int64_t non_vip_video = (u.video & video::kOnlyVip) ? 0 : u.video;
        if (non_vip_video == u.video && !mutually_secret) {
            e.plain[0] = e.plain[1];
        } else {
            append_who_entry(e.plain[0], u, non_vip_video, !mutually_secret);
        }
        entries.push_back(std::move(e));
    }

    auto wrap = [](const std::string& list) {
        return make_payload(
            OutMessage{.action = "who", .who_list_json = list, .who_list_present = list.size() > 2}
                .serialize());
    };
    Payload shared[2];
    for (const auto& [name, id] : by_name_) {
        const Subscriber& r = subscribers_.at(id);
        const int variant = r.is_vip() ? 1 : 0;
        if (!has_relations(r)) {
            if (!shared[variant]) {
                std::string list = "[";
                for (const auto& e : entries) {
                    if (list.size() > 1) list.push_back(',');
                    list += e.plain[variant];
                }
                list.push_back(']');
                shared[variant] = wrap(list);
            }
            out.send(id, shared[variant], PayloadKind::WhoList);
            continue;
        }
        std::string list = "[";
        for (const auto& e : entries) {
            const Subscriber& u = *e.user;
            const bool self = &u == &r;
            if (!self && is_blocked(u, r)) continue;
            if (list.size() > 1) list.push_back(',');
            const std::int64_t plain_video =
                (variant == 0 && (u.video & video::kOnlyVip)) ? 0 : u.video;
            const std::int64_t video = self ? u.video : who_video_for(u, r);
            if (video == plain_video) {
                list += e.plain[variant];
            } else {
                append_who_entry(list, u, video, variant == 1 || !mutually_secret);
            }
        }
        list.push_back(']');
        out.send(id, wrap(list), PayloadKind::WhoList);
    }
}

// ---------------------------------------------------------------------------------------
// Web API support

Statistics Room::statistics() const {
    Statistics st;
    std::set<std::string_view> seen;
    for (const auto& [name, id] : by_name_) {
        const Subscriber& s = subscribers_.at(id);
        if (s.status == "hidden") continue;
        ++st.user_count;
        if (!seen.insert(s.username).second) continue;
        st.usernames.push_back(s.username);
        if (s.video & video::kActive) {
            if (s.video & video::kNsfw)
                ++st.red_cameras;
            else
                ++st.blue_cameras;
        }
    }
    return st;
}

bool Room::amend_claims(const std::string& username, auth::Claims claims, Time now, Output& out) {
    Subscriber* s = find_online(username);
    if (!s) return false;
    // A guest session has no claims to replace (api.md §6, step 7').
    if (!s->claims) return true;
    s->claims = std::move(claims);
    ping(s->id, now, out);
    out.send(
        s->id,
        make_payload(
            OutMessage{.action = "me", .username = s->username, .video = s->video}.serialize()));
    mark_who_dirty(now);
    return true;
}

void Room::block_now(const std::vector<std::string>& usernames, Time now, Output& out) {
    bool changed = false;
    for (const auto& name : usernames) {
        Subscriber* u = find_online(name);
        if (!u) continue;
        for (const auto& other : usernames) {
            if (other == name || other.empty()) continue;
            add_relation(u->muted, other);
            add_relation(u->blocked, other);
            out.send(u->id,
                     make_payload(OutMessage{.action = "block", .username = other}.serialize()));
            changed = true;
        }
    }
    if (changed) mark_who_dirty(now);
}

std::int64_t Room::disconnect_now(const std::vector<std::string>& usernames,
                                  const std::string& message, bool kick, Time now, Output& out) {
    std::int64_t removed = 0;
    for (const auto& name : usernames) {
        Subscriber* s = find_online(name);
        if (!s) continue;
        broadcast_presence(s->username, kick ? presence::kKicked : presence::kExited, now, out);
        if (!message.empty()) out.send(s->id, chat_server_notice(message));
        out.send(s->id, disconnect_payload());
        deauthenticate(*s);
        ++removed;
    }
    if (removed > 0) mark_who_dirty(now);
    return removed;
}

void Room::cache_blocklist(const std::string& username, std::vector<std::string> blocklist) {
    cached_blocklists_[username] = std::move(blocklist);
}

std::vector<std::string> Room::cached_blocklist(const std::string& username) const {
    auto it = cached_blocklists_.find(username);
    return it == cached_blocklists_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace barertc::chat
