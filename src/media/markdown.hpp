#pragma once
// Chat text → safe HTML (features.md §2 and §3).

#include <string>
#include <string_view>

namespace barertc::media {

// Renders GitHub-flavoured Markdown (tables, fenced code, autolinks, ~~strikethrough~~, raw
// HTML handed to the sanitiser), sanitises the result and trims surrounding whitespace.
// An empty result means "nothing to show": the caller drops the message.
std::string render_markdown(std::string_view text);

// render_markdown followed by append_youtube_embed (youtube.hpp); "" stays "".
std::string render_chat_message(std::string_view text);

}  // namespace barertc::media
