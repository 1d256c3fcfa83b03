#include "chat/protocol.hpp"
#include "util/ascii.hpp"

#include "util/base64.hpp"
#include "util/json_writer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

namespace barertc::chat {
namespace {

namespace bj = boost::json;

// Decoding helpers mirror Go's encoding/json: null leaves the zero value, a value of another
// type is an error for the whole message.
bool read_string(const bj::value& v, std::string& out) {
    if (v.is_null()) return true;
    if (!v.is_string()) return false;
    out.assign(v.get_string().data(), v.get_string().size());
    return true;
}

bool read_int(const bj::value& v, std::int64_t& out) {
    if (v.is_null()) return true;
    if (v.is_int64()) {
        out = v.get_int64();
        return true;
    }
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        out = static_cast<std::int64_t>(v.get_uint64());
        return true;
    }
    // Go accepts 3.0 for an int field only if it has no fraction... it does not: "1.0" fails.
    return false;
}

bool read_bool(const bj::value& v, bool& out) {
    if (v.is_null()) return true;
    if (!v.is_bool()) return false;
    out = v.get_bool();
    return true;
}

bool read_string_list(const bj::value& v, std::vector<std::string>& out) {
    if (v.is_null()) return true;
    if (!v.is_array()) return false;
    out.clear();
    out.reserve(v.get_array().size());
    for (const auto& e : v.get_array()) {
        if (e.is_null()) {
            out.emplace_back();
            continue;
        }
        if (!e.is_string()) return false;
        out.emplace_back(e.get_string().data(), e.get_string().size());
    }
    return true;
}

// `bytes` arrives as a JSON array of byte values (the page) or as base64 (Go's []byte).
bool read_bytes(const bj::value& v, std::string& out, bool& present) {
    if (v.is_null()) return true;
    if (v.is_string()) {
        auto decoded = base64::decode(std::string_view(v.get_string()));
        if (!decoded) return false;
        out = std::move(*decoded);
        present = true;
        return true;
    }
    if (!v.is_array()) return false;
    const auto& arr = v.get_array();
    out.clear();
    out.reserve(arr.size());
    for (const auto& e : arr) {
        std::int64_t b = 0;
        if (!read_int(e, b) || b < 0 || b > 255) return false;
        out.push_back(static_cast<char>(b));
    }
    present = true;
    return true;
}

}  // namespace

ParseResult parse_client_message(std::string_view text) {
    ParseResult result;
    bj::error_code ec;
    bj::value root = bj::parse(text, ec);
    if (ec) {
        result.error = "invalid JSON: " + ec.message();
        return result;
    }
    if (!root.is_object()) {
        result.error = "not a JSON object";
        return result;
    }
    ClientMessage m;
    for (const auto& kv : root.get_object()) {
        const std::string_view key = kv.key();
        const bj::value& v = kv.value();
        bool ok = true;
        if (iequals_ascii(key, "action"))
            ok = read_string(v, m.action);
        else if (iequals_ascii(key, "channel"))
            ok = read_string(v, m.channel);
        else if (iequals_ascii(key, "username"))
            ok = read_string(v, m.username);
        else if (iequals_ascii(key, "message"))
            ok = read_string(v, m.message);
        else if (iequals_ascii(key, "jwt"))
            ok = read_string(v, m.jwt);
        else if (iequals_ascii(key, "video"))
            ok = read_int(v, m.video);
        else if (iequals_ascii(key, "status"))
            ok = read_string(v, m.status);
        else if (iequals_ascii(key, "dnd"))
            ok = read_bool(v, m.dnd);
        else if (iequals_ascii(key, "msgID"))
            ok = read_int(v, m.msg_id);
        else if (iequals_ascii(key, "usernames"))
            ok = read_string_list(v, m.usernames);
        else if (iequals_ascii(key, "bytes"))
            ok = read_bytes(v, m.bytes, m.has_bytes);
        else if (iequals_ascii(key, "timestamp"))
            ok = read_string(v, m.timestamp);
        else if (iequals_ascii(key, "reason"))
            ok = read_string(v, m.reason);
        else if (iequals_ascii(key, "comment"))
            ok = read_string(v, m.comment);
        else if (iequals_ascii(key, "candidate"))
            ok = read_string(v, m.candidate);
        else if (iequals_ascii(key, "description"))
            ok = read_string(v, m.description);
        // Server-only fields (whoList, messages, jwtRules, openSecret) are decoded by the
        // original too; a wrong type there fails the message, anything else is ignored.
        else if (iequals_ascii(key, "openSecret")) {
            std::string ignored;
            ok = read_string(v, ignored);
        } else if (iequals_ascii(key, "whoList") || iequals_ascii(key, "messages")) {
            ok = v.is_null() || v.is_array();
        } else if (iequals_ascii(key, "jwtRules")) {
            ok = v.is_null() || v.is_object();
        }
        if (!ok) {
            result.error = "wrong type for field " + std::string(key);
            return result;
        }
    }
    result.message = std::move(m);
    return result;
}

std::string OutMessage::serialize() const {
    std::string out;
    out.reserve(64 + channel.size() + username.size() + message.size() + jwt.size() +
                who_list_json.size() + messages_json.size() + candidate.size() +
                description.size());
    json::ObjectWriter w(out);
    w.field_nonempty("action", action);
    w.field_nonempty("channel", channel);
    w.field_nonempty("username", username);
    w.field_nonempty("message", message);
    w.field_nonempty("jwt", jwt);
    if (who_list_present) w.raw("whoList", who_list_json);
    w.field_nonzero("video", video);
    w.field_nonzero("msgID", msg_id);
    w.field_nonempty("openSecret", open_secret);
    w.field_nonempty("timestamp", timestamp);
    if (!messages_json.empty()) w.raw("messages", messages_json);
    if (!jwt_rules_json.empty()) w.raw("jwtRules", jwt_rules_json);
    w.field_nonempty("candidate", candidate);
    w.field_nonempty("description", description);
    w.close();
    return out;
}

Payload chat_server_notice(std::string_view text, std::string_view channel) {
    return make_payload(
        OutMessage{.action = "error", .channel = channel, .username = kChatServer, .message = text}
            .serialize());
}

}  // namespace barertc::chat
