#pragma once
// Shell-style word splitting for operator commands (commands.md §1): quotes and backslashes
// group words; nothing is expanded.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace barertc::chat {

// nullopt when a quote is left open or the text ends in a lone backslash.
std::optional<std::vector<std::string>> split_shell_words(std::string_view text);

}  // namespace barertc::chat
