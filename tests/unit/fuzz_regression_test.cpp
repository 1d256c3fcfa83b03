// Regression tests for the fuzz targets in fuzz/: every input kept in fuzz/corpus/ (the seeds
// and each input that once crashed a target) goes through the same project entry point as in
// its fuzz target, with the same checks, in an ordinary (gcc, optionally sanitized) build.

#include "auth/jwt.hpp"
#include "chat/protocol.hpp"
#include "chat/shell_words.hpp"
#include "config/settings.hpp"
#include "media/html_sanitizer.hpp"
#include "media/image.hpp"
#include "media/markdown.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace barertc;

// fuzz/corpus/<name>, found from this file's path (CMake compiles it by its absolute path).
std::vector<std::pair<std::string, std::string>> corpus(const std::string& name) {
    const fs::path dir = fs::path(__FILE__).parent_path() / ".." / ".." / "fuzz" / "corpus" / name;
    std::vector<std::pair<std::string, std::string>> out;
    if (!fs::is_directory(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream f(entry.path(), std::ios::binary);
        out.emplace_back(entry.path().filename().string(),
                         std::string(std::istreambuf_iterator<char>(f), {}));
    }
    return out;
}

TEST(FuzzRegression, CorporaArePresent) {
    for (const char* name :
         {"client_message", "room", "settings", "jwt", "web_api", "image", "markdown"}) {
        EXPECT_FALSE(corpus(name).empty()) << name;
    }
}

TEST(FuzzRegression, ClientMessages) {
    for (const auto& [file, text] : corpus("client_message")) {
        SCOPED_TRACE(file);
        const auto r = chat::parse_client_message(text);
        if (!r.message) continue;
        chat::OutMessage out;
        out.action = r.message->action;
        out.channel = r.message->channel;
        out.username = r.message->username;
        out.message = r.message->message;
        EXPECT_TRUE(chat::parse_client_message(out.serialize()).message.has_value());
    }
}

TEST(FuzzRegression, SettingsDocuments) {
    const auto defaults = config::default_settings();
    for (const auto& [file, text] : corpus("settings")) {
        SCOPED_TRACE(file);
        auto s = defaults;
        if (!config::load_from_string(text, "settings.toml", s).ok) {
            EXPECT_EQ(s, defaults);
            continue;
        }
        auto again = defaults;
        ASSERT_TRUE(config::load_from_string(config::to_toml(s), "rewritten.toml", again).ok);
        EXPECT_EQ(again, s);
    }
}

TEST(FuzzRegression, JwtTokens) {
    for (const auto& [file, text] : corpus("jwt")) {
        SCOPED_TRACE(file);
        (void)auth::verify(text, "fuzz-secret", 1751478800, 60);
        (void)auth::base64url_decode(text);
    }
}

TEST(FuzzRegression, MarkdownAndSanitizer) {
    for (const auto& [file, data] : corpus("markdown")) {
        SCOPED_TRACE(file);
        if (data.empty()) continue;
        const std::string_view text(data.data() + 1, data.size() - 1);
        (void)media::render_chat_message(text);
        const auto once = media::sanitize_html(text);
        EXPECT_EQ(media::sanitize_html(once), once);
    }
}

TEST(FuzzRegression, Images) {
    media::ImageLimits limits;
    limits.max_width = 64;
    limits.preview_width = 32;
    limits.max_input_bytes = 256 * 1024;
    limits.max_input_pixels = 128 * 128;
    static constexpr std::string_view kNames[] = {"a.jpg", "b.png", "c.gif", "d.JPEG", "e.txt"};
    for (const auto& [file, data] : corpus("image")) {
        SCOPED_TRACE(file);
        if (data.empty()) continue;
        const auto name = kNames[static_cast<unsigned char>(data[0]) % std::size(kNames)];
        const auto r = media::process_image(std::string_view(data).substr(1), name, limits);
        EXPECT_NE(r.ok, r.html.empty());
    }
}

TEST(FuzzRegression, CommandWords) {
    for (const auto& [file, data] : corpus("room")) {
        SCOPED_TRACE(file);
        (void)chat::split_shell_words(data);
    }
}

}  // namespace
