// Server-side moderation of message content: message filters (features.md §4), DM link-spam
// protection (§9), and the chat logs (§7).

#include "chat/room.hpp"
#include "util/time_format.hpp"

#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace barertc::chat {
namespace {

constexpr std::string_view kSpamKicked =
    "<strong>Spam Detected:</strong> You have pasted the same URL link to too many different "
    "people in a row, and this has been flagged as spam.<br><br>You will now be kicked from the "
    "chat room. You may refresh and log back in, however, if you continue to spam this link one "
    "more time, you <strong>will be temporarily banned from the chat room.</strong>";
constexpr std::string_view kSpamBanned =
    "<strong>Spam Detected:</strong> You recently were kicked from the chat room because you "
    "had already pasted this link to too many different people. You were warned that spamming "
    "this link one more time would result in a temporary ban from the chat room.<br><br>"
    "<strong>You are now (temporarily) banned from the chat room.</strong>";

constexpr auto kLinkSweepInterval = std::chrono::minutes(5);

// A loose "looks like a link" pattern (features.md §9): bare domains count too.
const re2::RE2& link_pattern() {
    static const re2::RE2 re(
        R"(((?:https?://.)?(?:www\.)?[A-Za-z0-9\-@%._+~#=]{2,256}\.[a-z]{2,6}\b[A-Za-z0-9\-@:%_+.~#?&/=]*))");
    return re;
}

// Every distinct text a pattern matches in `text`.
std::vector<std::string> all_matches(const re2::RE2& re, std::string_view text) {
    std::vector<std::string> found;
    re2::StringPiece input(text.data(), text.size());
    re2::StringPiece match;
    std::size_t pos = 0;
    while (pos <= text.size() &&
           re.Match(input, pos, text.size(), re2::RE2::UNANCHORED, &match, 1)) {
        const std::size_t start = static_cast<std::size_t>(match.data() - text.data());
        if (!match.empty()) {
            std::string m(match.data(), match.size());
            if (std::find(found.begin(), found.end(), m) == found.end()) found.push_back(m);
        }
        pos = start + std::max<std::size_t>(match.size(), 1);
    }
    return found;
}

void replace_all(std::string& text, const std::string& what, const std::string& with) {
    for (std::size_t at = text.find(what); at != std::string::npos;
         at = text.find(what, at + with.size())) {
        text.replace(at, what.size(), with);
    }
}

// A user name as one path component: no separators, no "." or "..".
std::string path_safe(std::string_view name) {
    std::string out;
    for (char c : name) out.push_back(c == '/' || c == '\\' || c == '\0' ? '_' : c);
    if (out.empty() || out == "." || out == "..") out = "_" + out;
    return out;
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

void Room::compile_filters() {
    filter_phrases_.clear();
    for (const auto& filter : settings_->message_filters) {
        std::vector<std::shared_ptr<const re2::RE2>> phrases;
        for (const auto& phrase : filter.keyword_phrases) {
            re2::RE2::Options options;
            options.set_log_errors(false);
            // Compiled as written: wrapping it in a group would let a phrase that is invalid on
            // its own (e.g. "a)|(b") compile. Match() returns the whole match as submatch 0.
            auto re = std::make_shared<const re2::RE2>(phrase, options);
            if (!re->ok()) {
                spdlog::warn("message filter phrase {:?} is not a valid expression: {}", phrase,
                             re->error());
                continue;
            }
            phrases.push_back(std::move(re));
        }
        filter_phrases_.push_back(std::move(phrases));
    }
}

bool Room::apply_filters(Subscriber& s, const ClientMessage& m, std::string& html,
                         std::int64_t msg_id, Time now, Output& out) {
    const bool dm = m.channel.starts_with('@');
    if (dm) {
        // Conversations with an operator are exempt.
        const Subscriber* r = find_online(std::string_view(m.channel).substr(1));
        if (s.is_op() || (r && r->is_op())) return true;
    }
    const auto& filters = settings_->message_filters;
    for (std::size_t i = 0; i < filters.size() && i < filter_phrases_.size(); ++i) {
        const auto& filter = filters[i];
        if (!filter.enabled) continue;
        bool matched = false;
        // Matched on the rendered HTML, censored byte for byte (features.md §4).
        for (const auto& re : filter_phrases_[i]) {
            for (const auto& hit : all_matches(*re, html)) {
                matched = true;
                if (filter.censor_message) replace_all(html, hit, std::string(hit.size(), '*'));
            }
        }
        if (!matched) continue;

        if (!filter.forward_message) {
            out.send(s.id, make_payload(OutMessage{.action = "message",
                                                   .channel = m.channel,
                                                   .username = s.username,
                                                   .message = html,
                                                   .msg_id = msg_id}
                                            .serialize()));
        }
        if (!filter.chat_server_response.empty()) {
            out.send(s.id, chat_server_notice(filter.chat_server_response));
        }
        if (filter.report_message) {
            if (s.is_op()) {
                out.send(s.id, chat_server_notice("Your recent chat context would have been "
                                                  "reported to your main website."));
            } else {
                out.effects.push_back(effect::PostReport{
                    .from_username = s.username,
                    .about_username = s.username,
                    .channel = m.channel,
                    .timestamp = timefmt::rfc1123_local(timefmt::unix_seconds(now)),
                    .reason = "Server Side Message Filter",
                    .message = m.message,
                    .comment = "This is an automated report via server side chat filters.\n\n"
                               "The recent context in this channel included the following "
                               "conversation:\n\n" +
                               context_text(context_key(m.channel, s.username)),
                    .reply_to = std::nullopt});
            }
        }
        return filter.forward_message;
    }
    return true;
}

bool Room::link_spam_tripped(Subscriber& s, const ClientMessage& m, Time now, Output& out) {
    const auto& cfg = settings_->dm_link_spam_protection;
    if (!cfg.enabled) return false;
    for (const auto& link : all_matches(link_pattern(), m.message)) {
        auto& record = link_records_[s.username + "\n" + link];
        record.recipients.insert(m.channel);
        record.last_sent = now;
        if (static_cast<std::int64_t>(record.recipients.size()) <= cfg.max_threads) continue;

        const bool ban = record.kicked;
        record.kicked = true;
        const std::string name = s.username;
        out.effects.push_back(effect::PostReport{
            .from_username = name,
            .about_username = name,
            .channel = m.channel,
            .timestamp = timefmt::rfc3339_local(timefmt::unix_seconds(now)),
            .reason = "Spam Detected",
            .message = "_In a DM to:_ " + m.channel + "<br>[" + name + "] " + m.message,
            .comment = ban ? "The user was **banned** from chat."
                           : "The user was **kicked** from the room with a warning.",
            .reply_to = std::nullopt});
        if (ban) {
            bans_[name] = now + std::chrono::hours(cfg.ban_hours);
            kick_sequence(s, presence::kBanned, kSpamBanned, now, out);
        } else {
            kick_sequence(s, presence::kKicked, kSpamKicked, now, out);
        }
        return true;
    }
    return false;
}

void Room::sweep_link_spam(Time now) {
    if (now - last_link_sweep_ < kLinkSweepInterval) return;
    last_link_sweep_ = now;
    const auto limit = std::chrono::seconds(settings_->dm_link_spam_protection.time_limit);
    std::erase_if(link_records_, [&](const auto& kv) { return now - kv.second.last_sent > limit; });
}

void Room::log_channel(const std::string& channel, std::string_view sender, std::string_view text,
                       Time now, Output& out) const {
    const auto& logging = settings_->logging;
    if (!logging.enabled || !contains(logging.channels, channel)) return;
    out.effects.push_back(effect::AppendLog{
        path_safe(channel) + ".txt", timefmt::rfc3339_local(timefmt::unix_seconds(now)) + " [" +
                                         std::string(sender) + "] " + std::string(text) + "\n"});
}

void Room::log_direct(std::string_view from, std::string_view to, std::string_view text, Time now,
                      Output& out) const {
    const auto& logging = settings_->logging;
    if (!logging.enabled) return;
    const std::string line = timefmt::rfc3339_local(timefmt::unix_seconds(now)) + " [" +
                             std::string(from) + "] " + std::string(text) + "\n";
    for (const auto& [monitored, other] : {std::pair{from, to}, std::pair{to, from}}) {
        if (!contains(logging.usernames, monitored)) continue;
        out.effects.push_back(
            effect::AppendLog{"@" + path_safe(monitored) + "/" + path_safe(other) + ".txt", line});
        if (from == to) break;  // a note to oneself is logged once
    }
}

}  // namespace barertc::chat
