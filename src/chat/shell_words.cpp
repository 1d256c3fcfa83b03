#include "chat/shell_words.hpp"

namespace barertc::chat {

std::optional<std::vector<std::string>> split_shell_words(std::string_view text) {
    std::vector<std::string> words;
    std::string current;
    bool in_word = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) words.push_back(std::move(current));
            current.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (++i == text.size()) return std::nullopt;
            current.push_back(text[i]);
        } else if (c == '\'') {
            const auto end = text.find('\'', i + 1);
            if (end == std::string_view::npos) return std::nullopt;
            current.append(text.substr(i + 1, end - i - 1));
            i = end;
        } else if (c == '"') {
            for (++i;; ++i) {
                if (i == text.size()) return std::nullopt;
                if (text[i] == '"') break;
                // Inside double quotes a backslash escapes only these, as in a POSIX shell.
                if (text[i] == '\\' && i + 1 < text.size() &&
                    std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos) {
                    ++i;
                }
                current.push_back(text[i]);
            }
        } else {
            current.push_back(c);
        }
    }
    if (in_word) words.push_back(std::move(current));
    return words;
}

}  // namespace barertc::chat
