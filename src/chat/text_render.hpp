#pragma once
// Turns a user's chat text into the HTML the page displays. Until the Markdown renderer lands
// (protocol issue), text is HTML-escaped so no markup from a user can reach another page.

#include <string>
#include <string_view>

namespace barertc::chat {

// Escapes &, <, >, " and ' as HTML entities.
std::string html_escape(std::string_view text);

// The HTML for a chat text: trimmed, escaped and wrapped in a paragraph. Empty when the text
// is blank, which means "drop the message" (protocol.md §5.2 step 3).
std::string render_message_html(std::string_view text);

}  // namespace barertc::chat
