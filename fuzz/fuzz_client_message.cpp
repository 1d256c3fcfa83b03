// Fuzzes the WebSocket client message parser (chat/protocol: parse_client_message), the first
// code every frame a client sends goes through. Whatever the frame, the parser must return
// (never throw or crash); a message it accepts is serialized back as the server would echo it.

#include "chat/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto result = barertc::chat::parse_client_message(text);
    if (!result.message) return 0;
    const auto& m = *result.message;
    barertc::chat::OutMessage out;
    out.action = m.action;
    out.channel = m.channel;
    out.username = m.username;
    out.message = m.message;
    out.jwt = m.jwt;
    out.video = m.video;
    out.msg_id = m.msg_id;
    out.timestamp = m.timestamp;
    out.candidate = m.candidate;
    out.description = m.description;
    const auto json = out.serialize();
    // What the server writes must parse as a client message again.
    if (!barertc::chat::parse_client_message(json).message) __builtin_trap();
    return 0;
}
