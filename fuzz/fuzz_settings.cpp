// Fuzzes the settings.toml loader (config/settings: load_from_string, the decoding step of
// load_or_create) over the defaults. A document that loads is written back with to_toml, and
// that must load again into equal settings (what a settings rewrite relies on).

#include "config/settings.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace barertc::config;
    static const Settings defaults = default_settings();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    Settings s = defaults;
    const auto r = load_from_string(text, "settings.toml", s);
    if (!r.ok) {
        if (!(s == defaults)) __builtin_trap();  // a failed load changes nothing
        return 0;
    }
    const auto toml = to_toml(s);
    Settings again = defaults;
    if (!load_from_string(toml, "rewritten.toml", again).ok) __builtin_trap();
    if (!(again == s)) __builtin_trap();
    return 0;
}
