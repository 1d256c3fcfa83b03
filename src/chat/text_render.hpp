#pragma once
// Turns a user's chat text into the HTML the page displays (features.md §2, §3).

#include <string>
#include <string_view>

namespace barertc::chat {

// Escapes &, <, >, " and ' as HTML entities.
std::string html_escape(std::string_view text);

// A chat message: Markdown rendered, sanitised, trimmed, with a YouTube embed appended. Empty
// when nothing is left, which means "drop the message" (protocol.md §5.2 step 3).
std::string render_message_html(std::string_view text);

// Markdown from the server itself (welcome messages, command replies): rendered and sanitised,
// without media embeds.
std::string render_markdown_html(std::string_view text);

}  // namespace barertc::chat
