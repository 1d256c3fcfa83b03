#pragma once
// The protocol's JSON messages (protocol.md §2): parsing what clients send, serializing what
// the server sends. Field order on output follows the original's message struct so frames are
// byte-identical: action, channel, username, message, jwt, whoList, video, status, dnd, msgID,
// openSecret, bytes, usernames, timestamp, reason, comment, messages, jwtRules, candidate,
// description. Every field is omitted when it holds its zero value.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace barertc::chat {

// A message from a client. Keys are matched case-insensitively; unknown keys are ignored;
// a known key with a value of the wrong JSON type makes the whole message invalid.
struct ClientMessage {
    std::string action;
    std::string channel;
    std::string username;
    std::string message;
    std::string jwt;
    std::int64_t video = 0;
    std::string status;
    bool dnd = false;
    std::int64_t msg_id = 0;
    std::vector<std::string> usernames;
    std::string bytes;  // decoded from a JSON array of 0..255 or from standard base64
    bool has_bytes = false;
    std::string timestamp;
    std::string reason;
    std::string comment;
    std::string candidate;
    std::string description;
};

struct ParseResult {
    std::optional<ClientMessage> message;
    std::string error;  // why the frame was rejected (for the debug log only)
};

// Parses one text frame. Never throws.
ParseResult parse_client_message(std::string_view text);

// A server→client message being built. Views must outlive serialize(); the builder is meant to
// be filled and serialized in one expression.
struct OutMessage {
    std::string_view action{};
    std::string_view channel{};
    std::string_view username{};
    std::string_view message{};
    std::string_view jwt{};
    std::string_view who_list_json{};  // already-serialized array, written raw
    bool who_list_present = false;
    std::int64_t video = 0;
    std::int64_t msg_id = 0;
    std::string_view open_secret{};
    std::string_view timestamp{};
    std::string_view messages_json{};   // already-serialized array for `echo`, written raw
    std::string_view jwt_rules_json{};  // already-serialized object for `ping`, written raw
    std::string_view candidate{};
    std::string_view description{};

    std::string serialize() const;
};

using Payload = std::shared_ptr<const std::string>;

inline Payload make_payload(std::string s) {
    return std::make_shared<const std::string>(std::move(s));
}

// A ChatServer notice: {"action":"error","channel":...,"username":"ChatServer","message":...}.
Payload chat_server_notice(std::string_view text, std::string_view channel = {});

inline constexpr std::string_view kChatServer = "ChatServer";

// Presence texts the browser page matches literally (README.md of the spec).
namespace presence {
inline constexpr std::string_view kJoined = "has joined the room!";
inline constexpr std::string_view kExited = "has exited the room!";
inline constexpr std::string_view kKicked = "has been kicked from the room!";
inline constexpr std::string_view kBanned = "has been banned!";
inline constexpr std::string_view kTimedOut = "has timed out!";
}  // namespace presence

// Video flag bits (protocol.md §3).
namespace video {
inline constexpr std::int64_t kActive = 1;
inline constexpr std::int64_t kNsfw = 2;
inline constexpr std::int64_t kMuted = 4;
inline constexpr std::int64_t kNonExplicit = 8;
inline constexpr std::int64_t kMutualRequired = 16;
inline constexpr std::int64_t kMutualOpen = 32;
inline constexpr std::int64_t kOnlyVip = 64;
inline constexpr std::int64_t kInvited = 128;
inline constexpr std::int64_t kNoWatermark = 256;
}  // namespace video

}  // namespace barertc::chat
