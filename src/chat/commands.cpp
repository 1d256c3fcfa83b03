// Operator slash commands (commands.md). Only a recognised command from an operator is
// consumed; anything else is posted as ordinary chat by the caller.

#include "chat/room.hpp"
#include "chat/shell_words.hpp"
#include "chat/text_render.hpp"
#include "util/time_format.hpp"

#include <charconv>

namespace barertc::chat {
namespace {

constexpr std::string_view kHelp =
    "Moderator commands:\n\n"
    "* `/kick <username>` removes a user from the chat room (they may come back).\n"
    "* `/ban <username> <hours>` removes a user and keeps them out; hours default to 24.\n"
    "* `/unban <username>` lifts a ban.\n"
    "* `/bans` lists the users who are banned.\n"
    "* `/nsfw <username>` marks a user's camera as Explicit.\n"
    "* `/cut <username>` tells a user to turn off their camera.\n"
    "* `/help` shows this list.\n"
    "* `/help-advanced` shows the rarely needed, dangerous commands.\n\n"
    "Quote names that contain spaces, like `/kick \"username 2\"`.";

constexpr std::string_view kHelpAdvanced =
    "**These commands are dangerous:** use them only when you know what they do.\n\n"
    "* `/op <username>` grants operator rights to a user for this session.\n"
    "* `/deop <username>` takes operator rights away.\n"
    "* `/shutdown` stops the chat server at once (a supervisor should restart it).\n"
    "* `/kickall` signs everybody out of the chat room.\n"
    "* `/reconfigure` reloads the server's settings file.\n"
    "* `/help-advanced` shows this list.";

const Payload& disconnect_frame() {
    static const Payload p = make_payload(R"({"action":"disconnect"})");
    return p;
}

// The target of a command: the second word with one leading '@' removed.
std::string target_of(const std::vector<std::string>& words) {
    if (words.size() < 2) return {};
    std::string name = words[1];
    if (name.starts_with('@')) name.erase(0, 1);
    return name;
}

}  // namespace

void Room::reply(const Subscriber& s, std::string_view text, Output& out) const {
    out.send(s.id, chat_server_notice(text));
}

void Room::reply_markdown(const Subscriber& s, std::string_view text, Output& out) const {
    out.send(s.id, chat_server_notice(render_markdown_html(text)));
}

void Room::kick_sequence(Subscriber& target, std::string_view presence_text,
                         std::string_view notice, Time now, Output& out) {
    // The presence goes out while the user is still present, so they see it too.
    broadcast_presence(target.username, presence_text, now, out);
    out.send(target.id, chat_server_notice(notice));
    out.send(target.id, disconnect_frame());
    deauthenticate(target);
    mark_who_dirty(now);
}

bool Room::run_command(Subscriber& s, const std::string& text, Time now, Output& out) {
    if (!s.is_op()) return false;
    const auto parsed = split_shell_words(text);
    if (!parsed || parsed->empty()) return false;
    const auto& words = *parsed;
    const std::string& command = words[0];
    const std::string name = target_of(words);

    if (command == "/kick") {
        if (name.empty()) {
            reply_markdown(s,
                           "Usage: `/kick username` to remove the user from the chat room.\n\n"
                           "Names with spaces must be quoted, e.g. `/kick \"username 2\"`",
                           out);
        } else if (Subscriber* t = find_online(name); !t) {
            reply(s, "/kick: username not found: " + name, out);
        } else if (t->id == s.id) {
            reply(s, "/kick: did you really mean to kick yourself?", out);
        } else {
            kick_sequence(*t, presence::kKicked,
                          "You have been kicked from the chat room by " + s.username, now, out);
            reply(s, name + " has been kicked from the room", out);
        }
    } else if (command == "/ban") {
        if (name.empty()) {
            reply_markdown(s,
                           "Usage: `/ban username` to remove the user from the chat room for "
                           "24 hours (default).\n\nSet another duration (in hours) like: "
                           "`/ban username 2` for a 2-hour ban.",
                           out);
            return true;
        }
        std::int64_t hours = 24;
        if (words.size() >= 3) {
            std::int64_t parsed_hours = 0;
            const auto& h = words[2];
            auto [end, ec] = std::from_chars(h.data(), h.data() + h.size(), parsed_hours);
            if (ec == std::errc() && end == h.data() + h.size()) hours = parsed_hours;
        }
        bans_[name] = now + std::chrono::hours(hours);
        if (Subscriber* t = find_online(name)) {
            kick_sequence(*t, presence::kBanned,
                          "You have been banned from the chat room by " + s.username +
                              ". You may come back after " + std::to_string(hours) + " hours.",
                          now, out);
        }
        reply(s, name + " has been banned from the room for " + std::to_string(hours) + " hours.",
              out);
    } else if (command == "/unban") {
        if (name.empty()) {
            reply_markdown(s, "Usage: `/unban username` to lift the ban on a user.", out);
        } else if (bans_.erase(name)) {
            reply(s, "The ban on " + name + " has been lifted.", out);
        } else {
            reply(s,
                  "/unban: user " + name +
                      " was not found to be banned. Try `/bans` to see current banned users.",
                  out);
        }
    } else if (command == "/bans") {
        std::string text = "The listing of banned users currently includes:\n\n";
        for (const auto& [banned, until] : bans_) {
            text += "* `" + banned + "` banned until " +
                    timefmt::rfc3339_local(timefmt::unix_seconds(until)) + "\n";
        }
        reply_markdown(s, text, out);
    } else if (command == "/nsfw") {
        if (name.empty()) {
            reply(s, "Usage: `/nsfw username` to add the NSFW flag to their camera.", out);
            return true;
        }
        Subscriber* t = find_online(name);
        if (!t) {
            reply(s, "/nsfw: username not found: " + name, out);
        } else if (!(t->video & video::kActive)) {
            reply(s, "/nsfw: " + name + "'s camera was not currently enabled.", out);
        } else if (t->video & video::kNsfw) {
            reply(s, "/nsfw: " + name + "'s camera was already marked as explicit.", out);
        } else {
            std::string notice =
                "Just a friendly reminder to mark your camera as 'Explicit' by using the button "
                "at the top of the page if you are going to be sexual on webcam.<br><br>";
            notice += t->booted.contains(s.username)
                          ? "Your camera was detected to depict 'Explicit' activity and has been "
                            "marked for you."
                          : "Your camera has been marked as Explicit for you by @" + s.username;
            out.send(t->id, chat_server_notice(notice));
            t->video |= video::kNsfw;
            out.send(t->id, make_payload(OutMessage{
                                .action = "me", .username = t->username, .video = t->video}
                                             .serialize()));
            mark_who_dirty(now);
            reply(s, name + " now has their camera marked as Explicit", out);
            out.effects.push_back(effect::PostReport{
                .from_username = s.username,
                .about_username = name,
                .channel = "n/a",
                .timestamp = timefmt::rfc3339_local(timefmt::unix_seconds(now)),
                .reason = "NSFW Command Issued",
                .message = "The admin @" + s.username + " marks the webcam red for user @" + name,
                .comment = "An admin marked their webcam as explicit.",
                .reply_to = std::nullopt});
        }
    } else if (command == "/cut") {
        if (name.empty()) {
            reply(s, "Usage: `/cut username` to turn their camera off.", out);
        } else if (Subscriber* t = find_online(name); !t) {
            reply(s, "/cut: username not found: " + name, out);
        } else if (!(t->video & video::kActive)) {
            reply(s, "/cut: " + name + "'s camera was not currently enabled.", out);
        } else {
            out.send(t->id, make_payload(R"({"action":"cut"})"));
            reply(s, name + " has been told to turn off their camera.", out);
        }
    } else if (command == "/unmute-all") {
        const auto count = s.muted.size();
        for (const auto& muted : std::vector<std::string>(s.muted.begin(), s.muted.end())) {
            remove_relation(s.muted, muted);
        }
        s.unblockable = true;
        reply(s, "Your mute on " + std::to_string(count) + " users has been lifted.", out);
        mark_who_dirty(now);
    } else if (command == "/op" || command == "/deop") {
        const bool grant = command == "/op";
        if (name.empty()) {
            reply_markdown(s,
                           grant ? "Usage: `/op username` to grant temporary operator rights "
                                   "to a user."
                                 : "Usage: `/deop username` to remove operator rights from a "
                                   "user.",
                           out);
        } else if (Subscriber* t = find_online(name); !t) {
            reply(s, command + ": user " + name + " was not found.", out);
        } else {
            if (!t->claims) {
                t->claims.emplace();
                t->claims->sub = t->username;
            }
            t->claims->op = grant;
            mark_who_dirty(now);
            reply(s,
                  std::string(grant ? "Operator rights have been granted to "
                                    : "Operator rights have been taken from ") +
                      name,
                  out);
        }
    } else if (command == "/help") {
        reply_markdown(s, kHelp, out);
    } else if (command == "/help-advanced") {
        reply_markdown(s, kHelpAdvanced, out);
    } else if (command == "/shutdown") {
        broadcast_notice("The chat server is going down for a reboot NOW!", out);
        out.effects.push_back(effect::Shutdown{});
    } else if (command == "/kickall") {
        const auto& jwt = settings_->jwt;
        const std::string notice =
            jwt.enabled && !jwt.landing_page_url.empty()
                ? "<strong>Notice:</strong> The chat operator has requested that you log back "
                  "in to the chat room. Probably, this is because a new feature was launched "
                  "that needs you to reload the page. You may refresh the tab or <a href=\"" +
                      html_escape(jwt.landing_page_url) + "\">click here</a> to re-enter the room."
                : "<strong>Notice:</strong> The chat operator has kicked everybody from the "
                  "room. Usually, this may mean a new feature of the chat has been launched and "
                  "you need to reload the page for it to function correctly.";
        broadcast_notice(notice, out);
        std::vector<SessionId> everyone;
        for (const auto& [n, id] : by_name_) everyone.push_back(id);
        for (SessionId id : everyone) {
            out.send(id, disconnect_frame());
            if (Subscriber* t = find(id)) deauthenticate(*t);
        }
    } else if (command == "/reconfigure") {
        out.effects.push_back(effect::ReloadSettings{s.id});
    } else {
        return false;
    }
    return true;
}

void Room::reconfigured(SessionId requester, const std::string& error, Output& out) {
    const Subscriber* s = find(requester);
    if (!s) return;
    reply(*s,
          error.empty() ? "The server config file has been reloaded successfully!"
                        : "Error reloading the server config: " + error,
          out);
}

void Room::broadcast_notice(std::string_view text, Output& out) const {
    auto payload = chat_server_notice(text);
    for (const auto& [name, id] : by_name_) out.send(id, payload);
}

}  // namespace barertc::chat
