// Fuzzes the JWT verifier (auth/jwt: verify, base64url_decode, claims_from_json). The input is
// tried as a token as it is, and also as a header and payload (raw JSON) that the harness
// signs correctly, so the fuzzer reaches the algorithm check, the claim decoding and the date
// checks that sit behind the signature.

#include "auth/jwt.hpp"

#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

constexpr std::string_view kSecret = "fuzz-secret";
constexpr std::int64_t kNow = 1751478800;

std::string hmac(const EVP_MD* md, std::string_view text) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace barertc::auth;
    FuzzedDataProvider in(data, size);
    const auto leeway = in.ConsumeIntegralInRange<std::int64_t>(0, 120);
    const int mode = in.ConsumeIntegralInRange<int>(0, 3);
    const std::string rest = in.ConsumeRemainingBytesAsString();

    if (mode == 0) {
        // A token as a client sends it.
        (void)verify(rest, kSecret, kNow, leeway);
        (void)base64url_decode(rest);
        return 0;
    }

    // "header\npayload" (or just a payload under an HS256 header), signed with the secret.
    const auto nl = rest.find('\n');
    const std::string header =
        nl == std::string::npos ? R"({"alg":"HS256","typ":"JWT"})" : rest.substr(0, nl);
    const std::string payload = nl == std::string::npos ? rest : rest.substr(nl + 1);
    const std::string signing_input = base64url_encode(header) + "." + base64url_encode(payload);
    const EVP_MD* md = mode == 1 ? EVP_sha256() : mode == 2 ? EVP_sha384() : EVP_sha512();
    const auto r = verify(signing_input + "." + base64url_encode(hmac(md, signing_input)), kSecret,
                          kNow, leeway);
    if (r.ok) {
        // What the server re-issues (ping refresh, /api/authenticate) must verify again.
        const auto fresh = refreshed(r.claims, kNow);
        const auto again = verify(sign(fresh, kSecret), kSecret, kNow, leeway);
        if (!again.ok) __builtin_trap();
        (void)claims_to_json(again.claims);
    }
    return 0;
}
