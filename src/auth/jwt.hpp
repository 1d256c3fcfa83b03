#pragma once
// HS256 JSON Web Tokens as the host website signs them (auth.md). Pure functions: the caller
// passes the current time, so verification is deterministic and testable.

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace barertc::auth {

// The claims BareRTC knows (auth.md §4). Unknown claims are dropped.
struct Claims {
    bool op = false;
    bool vip = false;
    std::string img;
    std::string url;
    std::string nick;
    std::string emoji;
    std::string gender;
    std::vector<std::string> rules;
    std::string iss;
    std::string sub;
    boost::json::value aud;  // null, a string, or an array of strings
    std::optional<std::int64_t> exp;
    std::optional<std::int64_t> nbf;
    std::optional<std::int64_t> iat;
    std::string jti;

    bool has_rule(std::string_view rule) const;
    bool operator==(const Claims&) const = default;
};

// Decodes claims from a JSON object. Every known claim must have its JSON type (auth.md §3:
// `op` a boolean, `rules` an array of strings, `exp` a number...); on a wrong type returns
// nullopt and sets `error`. Numeric dates may be integers or floats (truncated).
std::optional<Claims> claims_from_json(const boost::json::object& obj, std::string& error);

// The claims as a JSON object with keys in the order
// op, vip, img, url, nick, emoji, gender, rules, iss, sub, aud, exp, nbf, iat, jti;
// empty strings, false, empty lists and absent dates are omitted.
boost::json::object claims_to_json(const Claims& claims);

// Signs `claims` as an HS256 token with header {"alg":"HS256","typ":"JWT"}.
std::string sign(const Claims& claims, std::string_view secret);

// A copy of `claims` valid for five minutes from `now`: exp = now + 300, iat = nbf = now.
// Used by the 30 s ping refresh and by /api/authenticate.
Claims refreshed(Claims claims, std::int64_t now_unix);
inline constexpr std::int64_t kRefreshedTokenSeconds = 300;

struct VerifyResult {
    bool ok = false;
    Claims claims;
    // The original's (golang-jwt) wording, shown to users: "token contains an invalid number
    // of segments", "signature is invalid", "token is expired by 1m30s", "token is not valid
    // yet", "token used before issued", "signing method none is invalid", ...
    std::string error;
};

// Verifies signature (HS256, HS384, HS512 with `secret`; `none` and every other alg refused),
// then exp/nbf/iat against `now_unix` with `leeway_seconds` of tolerance, then claim types.
// Signatures are compared in constant time.
VerifyResult verify(std::string_view token, std::string_view secret, std::int64_t now_unix,
                    std::int64_t leeway_seconds = 0);

// base64url without padding, as JWT uses (built on OpenSSL's base64, not hand-written).
std::string base64url_encode(std::string_view data);
std::optional<std::string> base64url_decode(std::string_view text);

// Constant-time equality for secrets (API keys, signatures).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace barertc::auth
