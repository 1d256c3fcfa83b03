#include "auth/jwt.hpp"

#include "util/json_writer.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/json.hpp>

#include <string>

namespace bj = boost::json;
using namespace barertc::auth;

namespace {

constexpr std::int64_t kNow = 1751478802;  // 2025-07-02T17:53:22Z
constexpr std::string_view kSecret = "secret-key";

// Builds a token from literal header and payload JSON, signed with OpenSSL directly, so the
// tests can express tokens the server itself would never produce.
std::string make_token(std::string_view header, std::string_view payload,
                       std::string_view secret = kSecret, const EVP_MD* md = EVP_sha256()) {
    std::string signing_input = base64url_encode(header);
    signing_input += '.';
    signing_input += base64url_encode(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    static const unsigned char kEmpty = 0;
    const void* key = secret.empty() ? static_cast<const void*>(&kEmpty) : secret.data();
    HMAC(md, key, static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
         &mac_len);
    return signing_input + "." +
           base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string hs256(std::string_view payload, std::string_view secret = kSecret) {
    return make_token(R"({"alg":"HS256","typ":"JWT"})", payload, secret);
}

Claims full_claims() {
    Claims c;
    c.op = true;
    c.vip = true;
    c.img = "/static/img/a.png";
    c.url = "https://example.com/u/alice";
    c.nick = "Alice <3";
    c.emoji = "🤖";
    c.gender = "f";
    c.rules = {"redcam", "noimage"};
    c.iss = "example.com";
    c.sub = "alice";
    c.aud = bj::array{"chat", "api"};
    c.exp = kNow + 300;
    c.nbf = kNow - 10;
    c.iat = kNow - 10;
    c.jti = "id-1";
    return c;
}

}  // namespace

TEST(Base64Url, KnownVectors) {
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
    EXPECT_EQ(base64url_decode(""), std::string());
    EXPECT_EQ(base64url_decode("Zg"), "f");
    EXPECT_EQ(base64url_decode("Zm8"), "fo");
    EXPECT_EQ(base64url_decode("Zm9vYg"), "foob");
    EXPECT_EQ(base64url_decode("-_-_"), "\xfb\xff\xbf");
}

TEST(Base64Url, RoundTripsAllByteValues) {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    for (std::size_t n = 0; n <= all.size(); n += 37) {
        const std::string part = all.substr(0, n);
        EXPECT_EQ(base64url_decode(base64url_encode(part)), part) << n;
    }
}

TEST(Base64Url, RejectsWhatGoRawUrlEncodingRejects) {
    EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);  // padding
    EXPECT_EQ(base64url_decode("+/+/"), std::nullopt);  // standard alphabet
    EXPECT_EQ(base64url_decode("Z"), std::nullopt);     // impossible length
    EXPECT_EQ(base64url_decode("Zm9v!"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm 9v"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9\nv"), "foo");  // Go skips newlines
}

TEST(ConstantTimeEqual, Basics) {
    EXPECT_TRUE(constant_time_equal("", ""));
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "abcd"));
    EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(Claims, HasRule) {
    Claims c;
    EXPECT_FALSE(c.has_rule("redcam"));
    c.rules = {"nobroadcast", "redcam"};
    EXPECT_TRUE(c.has_rule("redcam"));
    EXPECT_TRUE(c.has_rule("nobroadcast"));
    EXPECT_FALSE(c.has_rule("red"));
}

TEST(ClaimsToJson, KeyOrderAndOmitEmpty) {
    EXPECT_EQ(barertc::json::compact(claims_to_json(full_claims())),
              R"({"op":true,"vip":true,"img":"/static/img/a.png",)"
              R"("url":"https://example.com/u/alice","nick":"Alice \u003c3","emoji":"🤖",)"
              R"("gender":"f","rules":["redcam","noimage"],"iss":"example.com","sub":"alice",)"
              R"("aud":["chat","api"],"exp":1751479102,"nbf":1751478792,"iat":1751478792,)"
              R"("jti":"id-1"})");

    EXPECT_EQ(barertc::json::compact(claims_to_json(Claims{})), "{}");

    Claims c;
    c.sub = "bob";
    c.exp = 0;  // a present date is written even when zero
    EXPECT_EQ(barertc::json::compact(claims_to_json(c)), R"({"sub":"bob","exp":0})");
}

TEST(ClaimsToJson, SingleAudienceWrittenAsList) {
    Claims c;
    c.aud = "chat";
    EXPECT_EQ(barertc::json::compact(claims_to_json(c)), R"({"aud":["chat"]})");
    c.aud = bj::array{};
    EXPECT_EQ(barertc::json::compact(claims_to_json(c)), "{}");
}

TEST(ClaimsFromJson, TypesAndUnknownClaims) {
    std::string error;
    const auto obj = bj::parse(R"({"sub":"a","op":false,"vip":true,"rules":["x",null],)"
                               R"("aud":"one","exp":1.9,"nbf":null,"iat":-1.5,"name":"n",)"
                               R"("extra":{"deep":[1]}})")
                         .as_object();
    const auto c = claims_from_json(obj, error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->sub, "a");
    EXPECT_FALSE(c->op);
    EXPECT_TRUE(c->vip);
    EXPECT_EQ(c->rules, (std::vector<std::string>{"x", ""}));
    EXPECT_EQ(c->aud, bj::value("one"));
    EXPECT_EQ(c->exp, 1);  // fractions dropped
    EXPECT_EQ(c->nbf, std::nullopt);
    EXPECT_EQ(c->iat, -2);  // towards the past
}

// Found by fuzz_jwt: the JSON parser reads `0e751` as 0 × ∞ = NaN, and converting that to an
// integer was undefined behaviour. It is zero (as Go reads it).
TEST(ClaimsFromJson, ZeroWithAHugeExponentIsZero) {
    std::string error;
    const auto c = claims_from_json(
        bj::parse(R"({"sub":"a","nbf":0e751,"exp":0e400,"iat":0E+999})").as_object(), error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->nbf, 0);
    EXPECT_EQ(c->exp, 0);
    EXPECT_EQ(c->iat, 0);
    EXPECT_TRUE(verify(hs256(R"({"sub":"a","nbf":0e751})"), kSecret, kNow).ok);
}

TEST(ClaimsFromJson, KeysMatchCaseInsensitivelyLikeGo) {
    std::string error;
    const auto c =
        claims_from_json(bj::parse(R"({"SUB":"a","Nick":"N","OP":true})").as_object(), error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->sub, "a");
    EXPECT_EQ(c->nick, "N");
    EXPECT_TRUE(c->op);
}

TEST(ClaimsFromJson, WrongTypes) {
    const auto check = [](std::string_view json, std::string_view expected) {
        std::string error;
        EXPECT_EQ(claims_from_json(bj::parse(json).as_object(), error), std::nullopt) << json;
        EXPECT_EQ(error, expected) << json;
    };
    check(R"({"op":"yes"})",
          "json: cannot unmarshal string into Go struct field Claims.op of type bool");
    check(R"({"vip":1})",
          "json: cannot unmarshal number into Go struct field Claims.vip of type bool");
    check(R"({"sub":123})",
          "json: cannot unmarshal number into Go struct field Claims.sub of type string");
    check(R"({"nick":["x"]})",
          "json: cannot unmarshal array into Go struct field Claims.nick of type string");
    check(R"({"rules":"redcam"})",
          "json: cannot unmarshal string into Go struct field Claims.rules of type []string");
    check(R"({"rules":["redcam",5]})",
          "json: cannot unmarshal number into Go struct field Claims.rules of type string");
    check(R"({"exp":"1751479102"})",
          "json: cannot unmarshal string into Go struct field Claims.exp of type "
          "jwt.NumericDate");
    check(R"({"aud":[1]})",
          "json: cannot unmarshal array into Go struct field Claims.aud of type "
          "jwt.ClaimStrings");
    check(R"({"aud":true})",
          "json: cannot unmarshal bool into Go struct field Claims.aud of type "
          "jwt.ClaimStrings");
}

TEST(Jwt, KnownAnswerJwtIoExample) {
    // The well-known HS256 example token (jwt.io, RFC 7519 style claims).
    const std::string token =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    const auto r = verify(token, "your-256-bit-secret", kNow);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.claims.sub, "1234567890");
    EXPECT_EQ(r.claims.iat, 1516239022);
    EXPECT_FALSE(r.claims.exp);

    EXPECT_EQ(verify(token, "wrong", kNow).error, "signature is invalid");
}

TEST(Jwt, KnownAnswerSign) {
    // Expected token computed independently with the openssl command line tool.
    Claims c;
    c.op = true;
    c.nick = "Alice <3";
    c.rules = {"redcam"};
    c.sub = "alice";
    c.exp = 1751479102;
    c.iat = 1751478802;
    EXPECT_EQ(sign(c, kSecret),
              "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
              "eyJvcCI6dHJ1ZSwibmljayI6IkFsaWNlIFx1MDAzYzMiLCJydWxlcyI6WyJyZWRjYW0iXSwic3ViIjoi"
              "YWxpY2UiLCJleHAiOjE3NTE0NzkxMDIsImlhdCI6MTc1MTQ3ODgwMn0."
              "dY4PEACJCFRgbyBspQJ-nUKaa-TvKisngBNKEtJFwvA");
}

TEST(Jwt, SignVerifyRoundTripAllClaims) {
    const Claims c = full_claims();
    const std::string token = sign(c, kSecret);
    EXPECT_EQ(token.rfind("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 0), 0u);
    const auto r = verify(token, kSecret, kNow);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.claims, c);
    EXPECT_TRUE(r.error.empty());
}

TEST(Jwt, EmptySecretSignsAndVerifies) {
    Claims c;
    c.sub = "guest";
    const std::string token = sign(c, "");
    const auto r = verify(token, "", kNow);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.claims.sub, "guest");
    EXPECT_EQ(verify(token, "x", kNow).error, "signature is invalid");
    EXPECT_TRUE(verify(hs256(R"({"sub":"g"})", ""), "", kNow).ok);
}

TEST(Jwt, TamperedPayloadRejected) {
    Claims c;
    c.sub = "alice";
    const std::string token = sign(c, kSecret);
    const std::size_t d1 = token.find('.');
    const std::size_t d2 = token.find('.', d1 + 1);
    Claims evil = c;
    evil.op = true;
    const std::string evil_payload = base64url_encode(barertc::json::compact(claims_to_json(evil)));
    const std::string forged = token.substr(0, d1 + 1) + evil_payload + token.substr(d2);
    const auto r = verify(forged, kSecret, kNow);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "signature is invalid");
}

TEST(Jwt, TamperedSignatureRejected) {
    // Not the last character: its low bits are padding that the decoder ignores.
    std::string token = hs256(R"({"sub":"a"})");
    char& c = token[token.size() - 5];
    c = c == 'A' ? 'B' : 'A';
    EXPECT_EQ(verify(token, kSecret, kNow).error, "signature is invalid");
    token = hs256(R"({"sub":"a"})");
    token.resize(token.size() - 4);  // a truncated signature decodes, then mismatches
    EXPECT_EQ(verify(token, kSecret, kNow).error, "signature is invalid");
}

TEST(Jwt, WrongSecretRejected) {
    const auto r = verify(hs256(R"({"sub":"a"})"), "other-secret", kNow);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "signature is invalid");
}

TEST(Jwt, SegmentCount) {
    const std::string token = hs256(R"({"sub":"a"})");
    const std::string two = token.substr(0, token.rfind('.'));
    EXPECT_EQ(verify(two, kSecret, kNow).error, "token contains an invalid number of segments");
    EXPECT_EQ(verify(token + ".x", kSecret, kNow).error,
              "token contains an invalid number of segments");
    EXPECT_EQ(verify("", kSecret, kNow).error, "token contains an invalid number of segments");
    EXPECT_EQ(verify("abc", kSecret, kNow).error, "token contains an invalid number of segments");
}

TEST(Jwt, AlgNoneRefused) {
    const std::string token = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                              base64url_encode(R"({"sub":"admin","op":true})") + ".";
    const auto r = verify(token, kSecret, kNow);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "signing method none is invalid");
    // Even with an empty secret, an empty signature is never accepted.
    EXPECT_FALSE(verify(token, "", kNow).ok);
}

TEST(Jwt, OtherAlgorithmsRefused) {
    EXPECT_EQ(verify(make_token(R"({"alg":"RS256"})", R"({"sub":"a"})"), kSecret, kNow).error,
              "signing method RS256 is invalid");
    EXPECT_EQ(verify(make_token(R"({"alg":"hs256"})", R"({"sub":"a"})"), kSecret, kNow).error,
              "signing method hs256 is invalid");
    EXPECT_EQ(verify(make_token(R"({"typ":"JWT"})", R"({"sub":"a"})"), kSecret, kNow).error,
              "signing method (alg) is unspecified.");
    EXPECT_EQ(verify(make_token(R"({"alg":256})", R"({"sub":"a"})"), kSecret, kNow).error,
              "signing method (alg) is unspecified.");
}

TEST(Jwt, Hs384AndHs512Accepted) {
    const auto r384 = verify(
        make_token(R"({"alg":"HS384","typ":"JWT"})", R"({"sub":"carol"})", kSecret, EVP_sha384()),
        kSecret, kNow);
    ASSERT_TRUE(r384.ok) << r384.error;
    EXPECT_EQ(r384.claims.sub, "carol");

    const auto r512 = verify(
        make_token(R"({"alg":"HS512","typ":"JWT"})", R"({"sub":"dave"})", kSecret, EVP_sha512()),
        kSecret, kNow);
    ASSERT_TRUE(r512.ok) << r512.error;
    EXPECT_EQ(r512.claims.sub, "dave");

    // Computed independently with the openssl command line tool (secret "k").
    const std::string known =
        "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib2IiLCJ2aXAiOnRydWV9."
        "ZbJMPeVNMeLO1tyIpfEy-o-lK3RPbW-1nSAuFMBuV_YY9Lewvj2ztPFnQ0ugktaXhZC1D7eOktHLUwhfBjRbwA";
    const auto rk = verify(known, "k", kNow);
    ASSERT_TRUE(rk.ok) << rk.error;
    EXPECT_EQ(rk.claims.sub, "bob");
    EXPECT_TRUE(rk.claims.vip);

    // An HS512 signature presented as HS256 does not verify.
    const std::string h512 =
        make_token(R"({"alg":"HS512"})", R"({"sub":"a"})", kSecret, EVP_sha512());
    const std::string relabelled =
        base64url_encode(R"({"alg":"HS256"})") + h512.substr(h512.find('.'));
    EXPECT_EQ(verify(relabelled, kSecret, kNow).error, "signature is invalid");
}

TEST(Jwt, ExpiredByGoDuration) {
    const std::string token = hs256(R"({"sub":"a","exp":1751478712})");  // kNow - 90
    const auto r = verify(token, kSecret, kNow);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "token is expired by 1m30s");
    EXPECT_EQ(verify(hs256(R"({"exp":1751478801})"), kSecret, kNow).error,
              "token is expired by 1s");
    EXPECT_EQ(verify(hs256(R"({"exp":1751475202})"), kSecret, kNow).error,
              "token is expired by 1h0m0s");
    EXPECT_EQ(verify(hs256(R"({"exp":0})"), kSecret, kNow).error,
              "token is expired by 486521h53m22s");
}

TEST(Jwt, ExpBoundaryAndLeeway) {
    EXPECT_TRUE(verify(hs256(R"({"exp":1751478802})"), kSecret, kNow).ok);  // exp == now
    EXPECT_TRUE(verify(hs256(R"({"exp":1751478803})"), kSecret, kNow).ok);
    EXPECT_FALSE(verify(hs256(R"({"exp":1751478801})"), kSecret, kNow).ok);
    const auto r = verify(hs256(R"({"exp":1751478712})"), kSecret, kNow, 90);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(verify(hs256(R"({"exp":1751478712})"), kSecret, kNow, 89).error,
              "token is expired by 1m30s");
    // Extreme dates saturate instead of overflowing.
    EXPECT_TRUE(verify(hs256(R"({"exp":9223372036854775807})"), kSecret, kNow, 10).ok);
    EXPECT_EQ(verify(hs256(R"({"exp":-9223372036854775808})"), kSecret, kNow).error,
              "token is expired by 2562047h47m16.854775807s");
}

TEST(Jwt, NotValidYet) {
    const std::string token = hs256(R"({"sub":"a","nbf":1751478862})");  // kNow + 60
    EXPECT_EQ(verify(token, kSecret, kNow).error, "token is not valid yet");
    EXPECT_TRUE(verify(token, kSecret, kNow + 60).ok);
    EXPECT_TRUE(verify(token, kSecret, kNow, 60).ok);
}

TEST(Jwt, UsedBeforeIssued) {
    const std::string token = hs256(R"({"sub":"a","iat":1751478812})");  // kNow + 10
    EXPECT_EQ(verify(token, kSecret, kNow).error, "token used before issued");
    EXPECT_TRUE(verify(token, kSecret, kNow + 10).ok);
    EXPECT_TRUE(verify(token, kSecret, kNow, 10).ok);
}

TEST(Jwt, ErrorPrecedenceLikeGolangJwtV4) {
    // Several time checks fail: the last one evaluated (nbf) is reported.
    EXPECT_EQ(verify(hs256(R"({"exp":1,"iat":1751479802,"nbf":1751479802})"), kSecret, kNow).error,
              "token is not valid yet");
    EXPECT_EQ(verify(hs256(R"({"exp":1,"iat":1751479802})"), kSecret, kNow).error,
              "token used before issued");
    // A bad signature wins over an expired token.
    EXPECT_EQ(verify(hs256(R"({"exp":1})", "other"), kSecret, kNow).error, "signature is invalid");
}

TEST(Jwt, WrongClaimTypeRefused) {
    const auto r = verify(hs256(R"({"sub":"a","op":"yes"})"), kSecret, kNow);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "json: cannot unmarshal string into Go struct field Claims.op of type bool");
    EXPECT_FALSE(verify(hs256(R"({"sub":"a","rules":"redcam"})"), kSecret, kNow).ok);
    EXPECT_FALSE(verify(hs256(R"({"sub":"a","exp":"soon"})"), kSecret, kNow).ok);
}

TEST(Jwt, MalformedSegments) {
    const std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    const std::string payload = base64url_encode(R"({"sub":"a"})");
    const auto starts_malformed = [](const VerifyResult& r) {
        return !r.ok && r.error.rfind("token is malformed: ", 0) == 0;
    };
    EXPECT_TRUE(starts_malformed(verify("!!!." + payload + ".sig", kSecret, kNow)));
    EXPECT_TRUE(starts_malformed(verify(header + ".***.sig", kSecret, kNow)));
    EXPECT_TRUE(starts_malformed(verify(header + "=." + payload + ".sig", kSecret, kNow)));
    EXPECT_TRUE(starts_malformed(
        verify(base64url_encode("{not json") + "." + payload + ".sig", kSecret, kNow)));
    EXPECT_TRUE(
        starts_malformed(verify(base64url_encode("[1]") + "." + payload + ".sig", kSecret, kNow)));
    EXPECT_TRUE(starts_malformed(
        verify(header + "." + base64url_encode("{\"sub\":") + ".sig", kSecret, kNow)));
    EXPECT_TRUE(starts_malformed(
        verify(header + "." + base64url_encode("\"str\"") + ".sig", kSecret, kNow)));
    EXPECT_TRUE(starts_malformed(verify(header + "." + payload + ".a+b/", kSecret, kNow)));
    EXPECT_TRUE(starts_malformed(verify("..", kSecret, kNow)));
    EXPECT_EQ(verify("Bearer " + hs256(R"({"sub":"a"})"), kSecret, kNow).error,
              "tokenstring should not contain 'bearer '");
}

TEST(Jwt, NullPayloadMeansNoClaims) {
    const auto r = verify(hs256("null"), kSecret, kNow);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.claims, Claims{});
}

TEST(Jwt, UnknownClaimsDroppedOnResign) {
    const auto r = verify(hs256(R"({"sub":"a","name":"John","aud":"chat"})"), kSecret, kNow);
    ASSERT_TRUE(r.ok) << r.error;
    const std::string token = sign(r.claims, kSecret);
    const std::string payload = *base64url_decode(
        token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
    EXPECT_EQ(payload, R"({"sub":"a","aud":["chat"]})");
}

TEST(Jwt, Refreshed) {
    Claims c = full_claims();
    c.exp = 5;
    c.nbf.reset();
    c.iat = 1;
    const Claims r = refreshed(c, kNow);
    EXPECT_EQ(r.exp, kNow + kRefreshedTokenSeconds);
    EXPECT_EQ(r.iat, kNow);
    EXPECT_EQ(r.nbf, kNow);
    EXPECT_EQ(r.sub, c.sub);
    EXPECT_EQ(r.rules, c.rules);
    EXPECT_EQ(r.aud, c.aud);

    const auto v = verify(sign(r, kSecret), kSecret, kNow + kRefreshedTokenSeconds);
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_EQ(v.claims, r);
    EXPECT_EQ(verify(sign(r, kSecret), kSecret, kNow + kRefreshedTokenSeconds + 1).error,
              "token is expired by 1s");
}
