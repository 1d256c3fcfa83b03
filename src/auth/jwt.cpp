#include "auth/jwt.hpp"

#include "util/json_writer.hpp"
#include "util/time_format.hpp"

#include <boost/json/parse.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>

namespace barertc::auth {

namespace {

// The only header the server ever writes; precomputed so signing does no extra work.
constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";

enum class ClaimId {
    op,
    vip,
    img,
    url,
    nick,
    emoji,
    gender,
    rules,
    iss,
    sub,
    aud,
    exp,
    nbf,
    iat,
    jti
};

struct ClaimName {
    std::string_view name;
    ClaimId id;
};

constexpr std::array<ClaimName, 15> kClaimNames{{
    {"op", ClaimId::op},
    {"vip", ClaimId::vip},
    {"img", ClaimId::img},
    {"url", ClaimId::url},
    {"nick", ClaimId::nick},
    {"emoji", ClaimId::emoji},
    {"gender", ClaimId::gender},
    {"rules", ClaimId::rules},
    {"iss", ClaimId::iss},
    {"sub", ClaimId::sub},
    {"aud", ClaimId::aud},
    {"exp", ClaimId::exp},
    {"nbf", ClaimId::nbf},
    {"iat", ClaimId::iat},
    {"jti", ClaimId::jti},
}};

bool ascii_iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Go's decoder matches object keys to struct fields case-insensitively ("Sub" fills `sub`),
// so a token the original accepts must fill the same claims here.
const ClaimName* find_claim(std::string_view key) {
    for (const auto& c : kClaimNames) {
        if (ascii_iequal(c.name, key)) return &c;
    }
    return nullptr;
}

// Go's name for a JSON value's type in unmarshal errors.
std::string_view json_type_name(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::bool_:
            return "bool";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
        case boost::json::kind::double_:
            return "number";
        case boost::json::kind::string:
            return "string";
        case boost::json::kind::array:
            return "array";
        case boost::json::kind::object:
            return "object";
        case boost::json::kind::null:
            break;
    }
    return "null";
}

std::string type_error(const boost::json::value& v, std::string_view claim,
                       std::string_view go_type) {
    std::string e = "json: cannot unmarshal ";
    e += json_type_name(v);
    e += " into Go struct field Claims.";
    e += claim;
    e += " of type ";
    e += go_type;
    return e;
}

// NumericDate: whole or fractional Unix seconds, the fraction dropped (rounded towards the
// past, as truncating a Go time to whole seconds does).
std::optional<std::int64_t> numeric_date(const boost::json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        const std::uint64_t u = v.get_uint64();
        constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        return static_cast<std::int64_t>(std::min(u, kMax));
    }
    if (v.is_double()) {
        // JSON has no NaN, but the parser turns `0e751` (zero, as Go reads it) into 0 × ∞.
        if (std::isnan(v.get_double())) return 0;
        const double f = std::floor(v.get_double());
        // 2^63 as a double; anything at or beyond it cannot be represented.
        constexpr double kLimit = 9223372036854775808.0;
        if (f >= kLimit) return std::numeric_limits<std::int64_t>::max();
        if (f < -kLimit) return std::numeric_limits<std::int64_t>::min();
        return static_cast<std::int64_t>(f);
    }
    return std::nullopt;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_add_overflow(a, b, &r)) {
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    }
    return r;
}

// now - exp as a Go Duration; Go's Time.Sub saturates at the largest Duration.
std::chrono::nanoseconds expired_by(std::int64_t now, std::int64_t exp) {
    std::int64_t secs;
    std::int64_t ns;
    if (__builtin_sub_overflow(now, exp, &secs) ||
        __builtin_mul_overflow(secs, std::int64_t{1'000'000'000}, &ns)) {
        ns = std::numeric_limits<std::int64_t>::max();
    }
    return std::chrono::nanoseconds(ns);
}

const EVP_MD* hmac_digest(std::string_view alg) {
    if (alg == "HS256") return EVP_sha256();
    if (alg == "HS384") return EVP_sha384();
    if (alg == "HS512") return EVP_sha512();
    return nullptr;
}

// HMAC of `data` with `secret`; empty on an OpenSSL failure.
std::string hmac(const EVP_MD* md, std::string_view secret, std::string_view data) {
    // OpenSSL 3 rejects a null key pointer even with length 0, and an empty secret is legal
    // here (auth.md §3), so always pass a valid address.
    static const unsigned char kEmptyKey = 0;
    const void* key = secret.empty() ? static_cast<const void*>(&kEmptyKey) : secret.data();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (HMAC(md, key, static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
             &out_len) == nullptr) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(out), out_len);
}

bool starts_with_bearer(std::string_view token) {
    return token.size() >= 7 && ascii_iequal(token.substr(0, 7), "bearer ");
}

}  // namespace

bool Claims::has_rule(std::string_view rule) const {
    return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

std::optional<Claims> claims_from_json(const boost::json::object& obj, std::string& error) {
    Claims c;
    // Keys are applied in document order, so with duplicates (or case variants) the last one
    // wins, as with Go's decoder. A JSON null leaves a claim at its zero value, also as in Go.
    for (const auto& kv : obj) {
        const ClaimName* claim = find_claim(kv.key());
        if (claim == nullptr) continue;  // unknown claims are ignored
        const boost::json::value& v = kv.value();
        const std::string_view name = claim->name;
        if (v.is_null()) {
            switch (claim->id) {
                case ClaimId::rules:
                    c.rules.clear();
                    break;
                case ClaimId::aud:
                    c.aud = nullptr;
                    break;
                case ClaimId::exp:
                    c.exp.reset();
                    break;
                case ClaimId::nbf:
                    c.nbf.reset();
                    break;
                case ClaimId::iat:
                    c.iat.reset();
                    break;
                default:
                    break;  // Go leaves bool and string fields untouched on null
            }
            continue;
        }
        switch (claim->id) {
            case ClaimId::op:
            case ClaimId::vip: {
                if (!v.is_bool()) {
                    error = type_error(v, name, "bool");
                    return std::nullopt;
                }
                (claim->id == ClaimId::op ? c.op : c.vip) = v.get_bool();
                break;
            }
            case ClaimId::img:
            case ClaimId::url:
            case ClaimId::nick:
            case ClaimId::emoji:
            case ClaimId::gender:
            case ClaimId::iss:
            case ClaimId::sub:
            case ClaimId::jti: {
                if (!v.is_string()) {
                    error = type_error(v, name, "string");
                    return std::nullopt;
                }
                std::string* field = nullptr;
                switch (claim->id) {
                    case ClaimId::img:
                        field = &c.img;
                        break;
                    case ClaimId::url:
                        field = &c.url;
                        break;
                    case ClaimId::nick:
                        field = &c.nick;
                        break;
                    case ClaimId::emoji:
                        field = &c.emoji;
                        break;
                    case ClaimId::gender:
                        field = &c.gender;
                        break;
                    case ClaimId::iss:
                        field = &c.iss;
                        break;
                    case ClaimId::sub:
                        field = &c.sub;
                        break;
                    default:
                        field = &c.jti;
                        break;
                }
                *field = std::string(v.get_string());
                break;
            }
            case ClaimId::rules: {
                if (!v.is_array()) {
                    error = type_error(v, name, "[]string");
                    return std::nullopt;
                }
                std::vector<std::string> rules;
                rules.reserve(v.get_array().size());
                for (const auto& item : v.get_array()) {
                    if (item.is_null()) {
                        rules.emplace_back();  // Go decodes a null element as ""
                    } else if (item.is_string()) {
                        rules.emplace_back(item.get_string());
                    } else {
                        error = type_error(item, name, "string");
                        return std::nullopt;
                    }
                }
                c.rules = std::move(rules);
                break;
            }
            case ClaimId::aud: {
                if (v.is_string()) {
                    c.aud = v;
                    break;
                }
                const bool all_strings =
                    v.is_array() && std::all_of(v.get_array().begin(), v.get_array().end(),
                                                [](const auto& e) { return e.is_string(); });
                if (!all_strings) {
                    error = type_error(v, name, "jwt.ClaimStrings");
                    return std::nullopt;
                }
                c.aud = v;
                break;
            }
            case ClaimId::exp:
            case ClaimId::nbf:
            case ClaimId::iat: {
                const auto date = numeric_date(v);
                if (!date) {
                    error = type_error(v, name, "jwt.NumericDate");
                    return std::nullopt;
                }
                (claim->id == ClaimId::exp   ? c.exp
                 : claim->id == ClaimId::nbf ? c.nbf
                                             : c.iat) = *date;
                break;
            }
        }
    }
    return c;
}

boost::json::object claims_to_json(const Claims& claims) {
    boost::json::object o;
    o.reserve(15);
    if (claims.op) o.emplace("op", true);
    if (claims.vip) o.emplace("vip", true);
    if (!claims.img.empty()) o.emplace("img", claims.img);
    if (!claims.url.empty()) o.emplace("url", claims.url);
    if (!claims.nick.empty()) o.emplace("nick", claims.nick);
    if (!claims.emoji.empty()) o.emplace("emoji", claims.emoji);
    if (!claims.gender.empty()) o.emplace("gender", claims.gender);
    if (!claims.rules.empty()) {
        boost::json::array rules;
        rules.reserve(claims.rules.size());
        for (const auto& r : claims.rules) rules.emplace_back(r);
        o.emplace("rules", std::move(rules));
    }
    if (!claims.iss.empty()) o.emplace("iss", claims.iss);
    if (!claims.sub.empty()) o.emplace("sub", claims.sub);
    // The original's JWT library writes the audience as a list even when it was a single
    // string, and omits an empty list.
    if (claims.aud.is_string()) {
        o.emplace("aud", boost::json::array{claims.aud});
    } else if (claims.aud.is_array() && !claims.aud.get_array().empty()) {
        o.emplace("aud", claims.aud);
    }
    if (claims.exp) o.emplace("exp", *claims.exp);
    if (claims.nbf) o.emplace("nbf", *claims.nbf);
    if (claims.iat) o.emplace("iat", *claims.iat);
    if (!claims.jti.empty()) o.emplace("jti", claims.jti);
    return o;
}

std::string sign(const Claims& claims, std::string_view secret) {
    const std::string payload = json::compact(claims_to_json(claims));
    std::string token = base64url_encode(kHeaderJson);
    token.push_back('.');
    token += base64url_encode(payload);
    const std::string mac = hmac(EVP_sha256(), secret, token);
    token.push_back('.');
    token += base64url_encode(mac);
    return token;
}

Claims refreshed(Claims claims, std::int64_t now_unix) {
    claims.exp = saturating_add(now_unix, kRefreshedTokenSeconds);
    claims.iat = now_unix;
    claims.nbf = now_unix;
    return claims;
}

VerifyResult verify(std::string_view token, std::string_view secret, std::int64_t now_unix,
                    std::int64_t leeway_seconds) {
    VerifyResult result;
    const auto fail = [&](std::string message) {
        result.ok = false;
        result.error = std::move(message);
        return result;
    };

    // The stages and their precedence follow the original's library (golang-jwt v4):
    // structure and claim decoding first, then the algorithm, then time checks, and a bad
    // signature overrides any time error.
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return fail("token contains an invalid number of segments");
    }
    const std::string_view header_b64 = token.substr(0, dot1);
    const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signature_b64 = token.substr(dot2 + 1);

    const auto header_json = base64url_decode(header_b64);
    if (!header_json) {
        if (starts_with_bearer(token)) return fail("tokenstring should not contain 'bearer '");
        return fail("token is malformed: could not base64 decode header");
    }
    boost::system::error_code ec;
    const boost::json::value header = boost::json::parse(*header_json, ec);
    if (ec || !(header.is_object() || header.is_null())) {
        return fail("token is malformed: could not JSON decode header");
    }

    const auto payload_json = base64url_decode(payload_b64);
    if (!payload_json) return fail("token is malformed: could not base64 decode claim");
    boost::system::error_code payload_ec;
    const boost::json::value payload = boost::json::parse(*payload_json, payload_ec);
    // A literal null payload decodes to empty claims in Go, so it is not an error.
    if (payload_ec || !(payload.is_object() || payload.is_null())) {
        return fail("token is malformed: could not JSON decode claim");
    }
    if (payload.is_object()) {
        std::string error;
        auto claims = claims_from_json(payload.get_object(), error);
        if (!claims) return fail(std::move(error));
        result.claims = std::move(*claims);
    }

    const boost::json::value* alg =
        header.is_object() ? header.get_object().if_contains("alg") : nullptr;
    if (alg == nullptr || !alg->is_string()) return fail("signing method (alg) is unspecified.");
    const EVP_MD* md = hmac_digest(alg->get_string());
    if (md == nullptr) {
        std::string e = "signing method ";
        e += alg->get_string();
        e += " is invalid";
        return fail(std::move(e));
    }

    // Each failing check replaces the previous message, as in the original library, so when
    // several fail the last one here is reported.
    std::string time_error;
    const Claims& c = result.claims;
    if (c.exp && now_unix > saturating_add(*c.exp, leeway_seconds)) {
        time_error = "token is expired by " + timefmt::go_duration(expired_by(now_unix, *c.exp));
    }
    if (c.iat && saturating_add(now_unix, leeway_seconds) < *c.iat) {
        time_error = "token used before issued";
    }
    if (c.nbf && saturating_add(now_unix, leeway_seconds) < *c.nbf) {
        time_error = "token is not valid yet";
    }

    const auto signature = base64url_decode(signature_b64);
    if (!signature) return fail("token is malformed: could not base64 decode signature");
    const std::string expected = hmac(md, secret, token.substr(0, dot2));
    if (expected.empty() || !constant_time_equal(expected, *signature)) {
        return fail("signature is invalid");
    }
    if (!time_error.empty()) return fail(std::move(time_error));

    result.ok = true;
    return result;
}

std::string base64url_encode(std::string_view data) {
    // EVP_EncodeBlock takes an int length; encode in whole 3-byte groups per call so that
    // arbitrarily large inputs work and only the last call can produce padding.
    constexpr std::size_t kChunk = 3 * 1024 * 1024;
    std::string out;
    out.resize((data.size() + 2) / 3 * 4 + 1);  // +1: EVP_EncodeBlock writes a NUL
    std::size_t written = 0;
    for (std::size_t pos = 0; pos < data.size(); pos += kChunk) {
        const std::size_t n = std::min(kChunk, data.size() - pos);
        written += static_cast<std::size_t>(EVP_EncodeBlock(
            reinterpret_cast<unsigned char*>(out.data() + written),
            reinterpret_cast<const unsigned char*>(data.data() + pos), static_cast<int>(n)));
    }
    out.resize(written);
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& ch : out) {
        if (ch == '+')
            ch = '-';
        else if (ch == '/')
            ch = '_';
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    // The original decodes with Go's RawURLEncoding: URL alphabet, no padding, and '\r' / '\n'
    // skipped anywhere. The standard alphabet and '=' are errors there, so they are here too;
    // EVP_DecodeBlock would accept them, hence the explicit check.
    std::string std_b64;
    std_b64.reserve(text.size() + 3);
    for (const char ch : text) {
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            std_b64.push_back(ch);
        } else if (ch == '-') {
            std_b64.push_back('+');
        } else if (ch == '_') {
            std_b64.push_back('/');
        } else if (ch != '\r' && ch != '\n') {
            return std::nullopt;
        }
    }
    const std::size_t rem = std_b64.size() % 4;
    if (rem == 1) return std::nullopt;  // a lone sextet cannot encode a byte
    const std::size_t pad = rem == 0 ? 0 : 4 - rem;
    std_b64.append(pad, '=');

    constexpr std::size_t kChunk = 4 * 1024 * 1024;
    std::string out;
    out.resize(std_b64.size() / 4 * 3);
    std::size_t written = 0;
    for (std::size_t pos = 0; pos < std_b64.size(); pos += kChunk) {
        const std::size_t n = std::min(kChunk, std_b64.size() - pos);
        const int r = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + written),
                                      reinterpret_cast<const unsigned char*>(std_b64.data() + pos),
                                      static_cast<int>(n));
        if (r < 0) return std::nullopt;
        written += static_cast<std::size_t>(r);
    }
    // EVP_DecodeBlock counts the zero bytes standing for the padding; drop them.
    out.resize(written - pad);
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace barertc::auth
