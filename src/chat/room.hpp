#pragma once
// The chat room: the one owner of chat state. Events come in (a client message, a connect, a
// disconnect, a timer tick) with the current time; deliveries come out (which session gets
// which serialized payload). No sockets, no threads, no clock of its own, so every rule of
// the protocol is unit-testable and a replay of events is deterministic.

#include "auth/jwt.hpp"
#include "chat/protocol.hpp"
#include "config/settings.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace re2 {
class RE2;
}

namespace barertc::chat {

using SessionId = std::uint64_t;
using Time = std::chrono::system_clock::time_point;

enum class PayloadKind : std::uint8_t {
    Message,  // delivered in order
    WhoList,  // a newer who list may replace an older one still waiting in the outbox
};

struct Delivery {
    SessionId to;
    Payload payload;
    PayloadKind kind = PayloadKind::Message;
};

// Work the room asks of the outside world; results come back as events.
namespace effect {
// Re-read settings.toml; answer with Room::reconfigured(requester, error).
struct ReloadSettings {
    SessionId requester = 0;
};
// Exit the process (status 1) after the notices are written: /shutdown.
struct Shutdown {};
// POST the report webhook (features.md §8). When `reply_to` is set, answer with
// Room::report_result(reply_to, error) once the call is over.
struct PostReport {
    std::string from_username, about_username, channel, timestamp, reason, message, comment;
    std::optional<SessionId> reply_to;
};
// Decode and re-encode an uploaded image off the room's thread; answer with
// Room::image_ready(from, channel, result).
struct ProcessImage {
    SessionId from = 0;
    std::string channel;
    std::string filename;
    std::string bytes;
};
// Queue a delivered text DM for the history database (features.md §6).
struct StoreDirectMessage {
    std::int64_t msg_id = 0;
    std::string from, to, html;
    std::int64_t unix_time = 0;
};
// Delete a DM from the history database: an operator's request deletes any row, a user's only
// their own. When `answer` is set, reply with Room::takeback_checked(requester, msg_id, deleted).
struct DeleteDirectMessage {
    SessionId requester = 0;
    std::int64_t msg_id = 0;
    std::string username;
    bool is_operator = false;
    bool answer = false;
};
// Append one line to a chat log file (features.md §7): `<Directory>/<file>`, where `file` is
// "<channel>.txt" or "@<monitored user>/<other party>.txt" with names made safe for paths.
struct AppendLog {
    std::string file;
    std::string line;
};
}  // namespace effect

using Effect =
    std::variant<effect::ReloadSettings, effect::Shutdown, effect::PostReport, effect::ProcessImage,
                 effect::StoreDirectMessage, effect::DeleteDirectMessage, effect::AppendLog>;

// The outcome of effect::ProcessImage: the <img> HTML, or a user-facing error.
struct ImageOutcome {
    bool ok = false;
    std::string html;
    std::string error;
};

// What one event produced. The transport hands each delivery to the recipient's outbox.
struct Output {
    std::vector<Delivery> deliveries;
    std::vector<Effect> effects;

    void send(SessionId to, Payload p, PayloadKind kind = PayloadKind::Message) {
        deliveries.push_back({to, std::move(p), kind});
    }
};

struct ConnectionInfo {
    std::string remote_address;  // for logs and per-IP limits
};

struct Statistics {
    std::int64_t user_count = 0;
    std::vector<std::string> usernames;
    std::int64_t blue_cameras = 0;
    std::int64_t red_cameras = 0;
};

class Room {
  public:
    // `first_message_id` is the id the first message gets (decisions.md §1: above both the
    // start time and every id already stored). `seed` feeds the open-secret generator.
    Room(std::shared_ptr<const config::Settings> settings, Time started_at,
         std::int64_t first_message_id, std::uint64_t seed = std::random_device{}());

    // Settings are swapped whole on reload.
    void set_settings(std::shared_ptr<const config::Settings> settings);
    const config::Settings& settings() const { return *settings_; }

    void connect(SessionId id, ConnectionInfo info);
    // The connection is gone. `presence_text` is what others see when it was logged in:
    // "has exited the room!", or "has timed out!" for an idle poll session.
    void disconnect(SessionId id, Time now, Output& out,
                    std::string_view presence_text = presence::kExited);
    void handle(SessionId id, ClientMessage msg, Time now, Output& out);

    // The 30 s keep-alive of one connection: a ping, with a refreshed token for sessions that
    // carry claims (protocol.md §16).
    void ping(SessionId id, Time now, Output& out);

    // Periodic housekeeping (about once a second): the full who-list round that ends the
    // reboot grace (protocol.md §19).
    void tick(Time now, Output& out);

    // Who lists are coalesced: changes only mark them dirty; the transport calls flush_who at
    // most once per debounce interval.
    bool who_dirty() const { return who_dirty_; }
    // Counts who-list changes, so the transport can tell a room still changing (a join storm)
    // from one that has settled.
    std::uint64_t who_changes() const { return who_changes_; }
    void flush_who(Output& out);

    // Results of effects.
    void reconfigured(SessionId requester, const std::string& error, Output& out);
    void report_result(SessionId reporter, const std::string& error, Output& out);
    // A user's take-back of a message this session does not own, after the history
    // database said whether it deleted that user's stored DM (protocol.md §12).
    void takeback_checked(SessionId requester, std::int64_t msg_id, bool deleted, Output& out);
    void image_ready(SessionId from, const std::string& channel, ImageOutcome result, Time now,
                     Output& out);

    // Web API support.
    Statistics statistics() const;
    // api.md §6: false when nobody online has that name.
    bool amend_claims(const std::string& username, auth::Claims claims, Time now, Output& out);
    // api.md §9: every online pair among `usernames` blocks each other.
    void block_now(const std::vector<std::string>& usernames, Time now, Output& out);
    // api.md §10: returns how many sessions were removed.
    std::int64_t disconnect_now(const std::vector<std::string>& usernames,
                                const std::string& message, bool kick, Time now, Output& out);
    // A ChatServer notice to every authenticated user.
    void broadcast_notice(std::string_view text, Output& out) const;
    void cache_blocklist(const std::string& username, std::vector<std::string> blocklist);
    std::vector<std::string> cached_blocklist(const std::string& username) const;

    // Introspection for the transport and tests.
    bool is_authenticated(SessionId id) const;
    bool is_online(std::string_view username) const { return find_online(username) != nullptr; }
    std::string username_of(SessionId id) const;
    std::size_t connection_count() const { return subscribers_.size(); }
    std::size_t online_count() const { return by_name_.size(); }
    std::int64_t next_message_id() const { return next_message_id_; }

    // Reboot grace (protocol.md §19).
    static constexpr std::chrono::seconds kWhoGrace{15};
    static constexpr std::chrono::seconds kWhoGraceRound{16};
    static constexpr std::chrono::seconds kPresenceGrace{30};

  private:
    struct TokenBucket {
        double tokens = 0;
        Time last{};
        bool primed = false;
    };

    struct Subscriber {
        SessionId id = 0;
        ConnectionInfo info;
        std::string username;
        bool authenticated = false;
        std::string status = "online";
        std::int64_t video = 0;
        bool dnd = false;
        std::int64_t login_at = 0;
        std::optional<auth::Claims> claims;
        // Per-session relations, by username (protocol.md §9–§11).
        std::unordered_set<std::string> muted, blocked, booted, invited;
        std::unordered_set<std::int64_t> owned_messages;
        bool unblockable = false;  // an operator who ran /unmute-all
        TokenBucket rate;

        bool is_op() const { return claims && claims->op; }
        bool is_vip() const { return claims && claims->vip; }
    };

    struct EchoEntry {
        std::string channel;
        std::string username;
        std::string message;
        std::int64_t msg_id = 0;
        std::int64_t unix_time = 0;
    };

    using Handler = void (Room::*)(Subscriber&, ClientMessage&, Time, Output&);
    static const std::unordered_map<std::string_view, Handler>& handlers();

    // Actions.
    void on_login(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_message(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_me(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_open(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_relay(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_boot(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_unboot(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_mute(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_unmute(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_block(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_blocklist(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_video_invite(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_takeback(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_react(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_ping(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_report(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void on_file(Subscriber& s, ClientMessage& m, Time now, Output& out);
    void take_back(std::int64_t msg_id, Output& out);

    // Recent raw lines per conversation, for reports and filters (features.md §4).
    static constexpr std::size_t kContextLines = 30;
    static std::string context_key(std::string_view channel, std::string_view sender);
    void record_context(const std::string& key, std::string_view sender, std::string_view text,
                        Time now);
    std::string context_text(const std::string& key) const;

    // Message filters (features.md §4). Returns false when the message must not be delivered
    // (the sender has already been answered); `html` may come back censored.
    bool apply_filters(Subscriber& s, const ClientMessage& m, std::string& html,
                       std::int64_t msg_id, Time now, Output& out);
    // DM link-spam protection (features.md §9). Returns true when the sender was kicked or
    // banned and the DM must not be delivered.
    bool link_spam_tripped(Subscriber& s, const ClientMessage& m, Time now, Output& out);
    void sweep_link_spam(Time now);
    void compile_filters();
    // Chat logs (features.md §7).
    void log_channel(const std::string& channel, std::string_view sender, std::string_view text,
                     Time now, Output& out) const;
    void log_direct(std::string_view from, std::string_view to, std::string_view text, Time now,
                    Output& out) const;

    // Operator commands (commands.md). Returns false when `text` is not a command this
    // sender may run, so it is posted as chat instead.
    bool run_command(Subscriber& s, const std::string& text, Time now, Output& out);
    void kick_sequence(Subscriber& target, std::string_view presence_text, std::string_view notice,
                       Time now, Output& out);
    void reply(const Subscriber& s, std::string_view text, Output& out) const;
    void reply_markdown(const Subscriber& s, std::string_view text, Output& out) const;

    // Steps shared by several actions.
    void send_login_burst(Subscriber& s, Time now, Output& out);
    void send_direct_message(Subscriber& s, const ClientMessage& m, std::string html,
                             std::int64_t msg_id, Time now, Output& out);
    void send_direct_image(Subscriber& s, const std::string& channel, const std::string& html,
                           std::int64_t msg_id, Output& out);
    void broadcast(std::string_view subject, std::string_view channel, const Payload& payload,
                   Output& out) const;
    void broadcast_presence(std::string_view username, std::string_view text, Time now,
                            Output& out);
    void mark_who_dirty(Time now);
    void deauthenticate(Subscriber& s);
    bool allow_message_rate(Subscriber& s, Time now);
    std::string rename_if_taken(const std::string& name, SessionId self) const;

    // Relations.
    bool is_blocked(const Subscriber& a, const Subscriber& b) const;
    void add_relation(std::unordered_set<std::string>& set, const std::string& name);
    void remove_relation(std::unordered_set<std::string>& set, const std::string& name);
    void drop_relations(Subscriber& s);
    bool has_relations(const Subscriber& s) const;

    // Who list.
    std::int64_t who_video_for(const Subscriber& u, const Subscriber& r) const;
    void append_who_entry(std::string& out, const Subscriber& u, std::int64_t video,
                          bool show_vip) const;

    // Moderation rules (protocol.md §15).
    config::ModerationRule effective_rule(const Subscriber& s) const;

    Subscriber* find(SessionId id);
    const Subscriber* find(SessionId id) const;
    Subscriber* find_online(std::string_view username);
    const Subscriber* find_online(std::string_view username) const;
    bool in_grace(Time now, std::chrono::seconds grace) const { return now < started_at_ + grace; }

    std::shared_ptr<const config::Settings> settings_;
    Time started_at_;
    std::int64_t next_message_id_;
    std::mt19937_64 rng_;

    std::unordered_map<SessionId, Subscriber> subscribers_;
    // Authenticated sessions by name, in byte order: the who list's order.
    std::map<std::string, SessionId, std::less<>> by_name_;
    // How many relation sets (mute, block, boot, invite) name a user: lets fan-out and who
    // lists skip per-recipient work for the common case of a user nobody singled out.
    std::unordered_map<std::string, int> referenced_;

    std::unordered_map<std::string, std::deque<EchoEntry>> echo_;
    std::unordered_map<std::string, std::deque<std::string>> context_;
    std::unordered_map<std::string, Time> bans_;
    std::unordered_map<std::string, std::vector<std::string>> cached_blocklists_;

    // Compiled filter phrases, one list per configured filter (same order).
    std::vector<std::vector<std::shared_ptr<const re2::RE2>>> filter_phrases_;
    struct LinkRecord {
        std::unordered_set<std::string> recipients;
        Time last_sent{};
        bool kicked = false;
    };
    // Keyed by sender + '\n' + link.
    std::unordered_map<std::string, LinkRecord> link_records_;
    Time last_link_sweep_{};
    // Recent login attempts per client address ([Limits] LoginsPerIPPerMinute).
    std::unordered_map<std::string, std::deque<Time>> login_attempts_;
    bool allow_login_attempt(const Subscriber& s, Time now);

    bool who_dirty_ = false;
    std::uint64_t who_changes_ = 0;
    bool grace_round_done_ = false;
};

}  // namespace barertc::chat
