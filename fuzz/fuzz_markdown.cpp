// Fuzzes the chat text renderer: Markdown (cmark-gfm) → the allow-list HTML sanitiser →
// YouTube embed (media/markdown: render_chat_message), and the sanitiser on its own with raw
// HTML input. The sanitiser's output is checked to be a fixed point: sanitising safe HTML
// again must not change it.

#include "media/html_sanitizer.hpp"
#include "media/markdown.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace barertc::media;
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
        case 0:
            (void)render_chat_message(text);
            break;
        case 1:
            (void)render_markdown(text);
            break;
        default: {
            const auto once = sanitize_html(text);
            (void)decode_html_entities(text);
            (void)escape_html(text);
            if (sanitize_html(once) != once) __builtin_trap();
        }
    }
    return 0;
}
