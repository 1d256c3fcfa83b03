#pragma once
// ASCII case-insensitive comparison, for protocol keys and HTTP header values.

#include <algorithm>
#include <string_view>

namespace barertc {

inline bool iequals_ascii(std::string_view a, std::string_view b) {
    const auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(),
                      [&](unsigned char x, unsigned char y) { return lower(x) == lower(y); });
}

}  // namespace barertc
