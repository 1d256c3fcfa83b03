#pragma once
// Standard (padded) base64 via OpenSSL's codec.

#include <optional>
#include <string>
#include <string_view>

namespace barertc::base64 {

std::string encode(std::string_view data);
// Strict: padded standard alphabet only; nullopt on anything else.
std::optional<std::string> decode(std::string_view text);

}  // namespace barertc::base64
