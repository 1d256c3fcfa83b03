#include "chat/text_render.hpp"

#include "media/html_sanitizer.hpp"
#include "media/markdown.hpp"

namespace barertc::chat {

std::string html_escape(std::string_view text) {
    return media::escape_html(text);
}

std::string render_message_html(std::string_view text) {
    return media::render_chat_message(text);
}

std::string render_markdown_html(std::string_view text) {
    return media::render_markdown(text);
}

}  // namespace barertc::chat
