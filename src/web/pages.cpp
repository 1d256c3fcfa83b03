#include "web/pages.hpp"

#include "auth/jwt.hpp"
#include "chat/text_render.hpp"
#include "util/base64.hpp"
#include "util/json_writer.hpp"
#include "util/time_format.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>

namespace barertc::web {

namespace bj = boost::json;
using net::http::status;

namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kText = "text/plain; charset=utf-8";

std::string cache_hash() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<int> letter(0, 25);
    std::string s(8, 'a');
    for (char& c : s) c = static_cast<char>('a' + letter(rng));
    return s;
}

// The `jwt` form value: from a POSTed form when present, else from the query string.
std::string jwt_form_value(const net::Request& req) {
    if (req.method() == net::http::verb::post &&
        req[net::http::field::content_type].starts_with("application/x-www-form-urlencoded")) {
        if (auto params = boost::urls::parse_query(req.body())) {
            for (auto p : *params) {
                if (p.key == "jwt") return std::string(p.value);
            }
        }
    }
    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) return {};
    for (auto p : url->params()) {
        if (p.key == "jwt") return std::string(p.value);
    }
    return {};
}

bj::array string_array(const std::vector<std::string>& list) {
    bj::array a;
    for (const auto& s : list) a.emplace_back(s);
    return a;
}

bj::object rules_dictionary(const auth::Claims* claims) {
    const auto has = [&](std::string_view r) { return claims && claims->has_rule(r); };
    bj::object o;
    o["IsNoBroadcastRule"] = has("nobroadcast") || has("novideo");
    o["IsNoDarkVideoRule"] = has("nodvd");
    o["IsNoImageRule"] = has("noimage");
    o["IsNoVideoRule"] = has("novideo");
    o["IsRedCamRule"] = has("redcam");
    return o;
}

}  // namespace

// coturn's REST API credentials (decisions.md §8): the user name carries its expiry, the
// password is HMAC-SHA1 of it under the shared secret, so the secret never reaches a page.
std::pair<std::string, std::string> turn_rest_credentials(const config::TurnSettings& turn,
                                                          const std::string& user,
                                                          std::int64_t now_unix) {
    const std::string username = std::to_string(now_unix + turn.credential_ttl) + ":" + user;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha1(), turn.shared_secret.data(), static_cast<int>(turn.shared_secret.size()),
         reinterpret_cast<const unsigned char*>(username.data()), username.size(), digest, &length);
    return {username,
            base64::encode(std::string_view(reinterpret_cast<const char*>(digest), length))};
}

namespace {

std::string render_index(const config::Settings& cfg, const std::string& token, bool valid,
                         const auth::Claims* claims, const std::vector<std::string>& blocklist) {
    const std::string hash = cache_hash();
    bj::array channels;
    for (const auto& c : cfg.public_channels) {
        bj::object o;
        o["ID"] = c.id;
        o["Name"] = c.name;
        o["Icon"] = c.icon;
        o["VIP"] = c.vip;
        o["PermitPhotos"] = c.permit_photos;
        o["WelcomeMessages"] = string_array(c.welcome_messages);
        o["EchoMessagesOnJoin"] = c.echo_messages_on_join;
        channels.emplace_back(std::move(o));
    }
    bj::array webhooks;
    for (const auto& w : cfg.webhook_urls) {
        bj::object o;
        o["Name"] = w.name;
        o["Enabled"] = w.enabled;
        o["URL"] = w.url;
        webhooks.emplace_back(std::move(o));
    }
    bj::object turn;
    turn["URLs"] = string_array(cfg.turn.urls);
    if (cfg.turn.shared_secret.empty()) {
        turn["Username"] = cfg.turn.username;
        turn["Credential"] = cfg.turn.credential;
    } else {
        const auto creds = turn_rest_credentials(
            cfg.turn, claims && !claims->sub.empty() ? claims->sub : config::random_uuid_v4(),
            timefmt::unix_seconds(std::chrono::system_clock::now()));
        turn["Username"] = creds.first;
        turn["Credential"] = creds.second;
    }
    bj::object vip;
    vip["Name"] = cfg.vip.name;
    vip["Branding"] = cfg.vip.branding;
    vip["Icon"] = cfg.vip.icon;
    vip["MutuallySecret"] = cfg.vip.mutually_secret;
    bj::object strings;
    strings["ModRuleErrorCameraAlwaysNSFW"] = cfg.strings.mod_rule_error_camera_always_nsfw;
    strings["ModRuleErrorNoBroadcast"] = cfg.strings.mod_rule_error_no_broadcast;
    strings["ModRuleErrorNoVideo"] = cfg.strings.mod_rule_error_no_video;
    strings["ModRuleErrorNoImage"] = cfg.strings.mod_rule_error_no_image;

    // Go-style JSON escapes <, > and &, so these values are safe inside a <script>.
    auto js = [](const bj::value& v) { return json::compact(v); };
    std::string html;
    html.reserve(4096);
    html +=
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
    html += chat::html_escape(cfg.title);
    html += "</title>\n<link rel=\"stylesheet\" href=\"/static/css/chat.css?" + hash + "\">\n";
    html += "</head>\n<body>\n<div id=\"app\"></div>\n<script>\n";
    html += "const Branding = " + js(bj::value(cfg.branding)) + ";\n";
    html += "const BareRTCStrings = " + js(strings) + ";\n";
    html += "const PublicChannels = " + js(channels) + ";\n";
    html += "const DMDisclaimer = " + js(bj::value(cfg.direct_message_history.disclaimer_message)) +
            ";\n";
    html += "const WebsiteURL = " + js(bj::value(cfg.website_url)) + ";\n";
    html += std::string("const PermitNSFW = ") + (cfg.permit_nsfw ? "true" : "false") + ";\n";
    html += "const TURN = " + js(turn) + ";\n";
    html += "const WebhookURLs = " + js(webhooks) + ";\n";
    html += "const VIP = " + js(vip) + ";\n";
    html += "const UserJWTToken = " + js(bj::value(token)) + ";\n";
    html += std::string("const UserJWTValid = ") + (valid ? "true" : "false") + ";\n";
    html += "const UserJWTClaims = " + js(claims ? auth::claims_to_json(*claims) : bj::object()) +
            ";\n";
    html += "const UserJWTRules = " + js(rules_dictionary(claims)) + ";\n";
    html += "const CachedBlocklist = " + js(string_array(blocklist)) + ";\n";
    html += "const CacheHash = " + js(bj::value(hash)) + ";\n";
    html += "function setModalImage(url) { window.open(url, '_blank'); }\n";
    html +=
        "</script>\n<noscript>This chat room needs JavaScript.</noscript>\n"
        "<script type=\"module\" src=\"/static/js/chat.js?" +
        hash +
        "\"></script>\n"
        "</body>\n</html>\n";
    return html;
}

}  // namespace

Pages::Pages(config::LiveSettings& settings, net::ChatService& chat)
    : settings_(settings), chat_(chat) {}

void Pages::index(net::Request req, net::Respond respond) {
    const auto cfg = settings_.get();
    const std::string token = jwt_form_value(req);
    std::optional<auth::Claims> claims;
    if (!token.empty()) {
        auto verified = auth::verify(token, cfg->jwt.secret_key,
                                     timefmt::unix_seconds(std::chrono::system_clock::now()));
        if (!verified.ok) {
            return respond(net::make_response(req, status::forbidden, kText,
                                              "Error parsing your JWT token: " + verified.error));
        }
        claims = std::move(verified.claims);
    }
    if (cfg->jwt.enabled && cfg->jwt.strict && !claims) {
        if (!cfg->jwt.landing_page_url.empty()) {
            auto res = net::make_response(req, status::found, "", "");
            res.set(net::http::field::location, cfg->jwt.landing_page_url);
            return respond(std::move(res));
        }
        return respond(net::make_response(req, status::forbidden, kText,
                                          "Authentication denied. Please go back and try again."));
    }
    if (!claims) {
        return respond(net::make_response(req, status::ok, kHtml,
                                          render_index(*cfg, token, false, nullptr, {})));
    }
    // The cached blocklist lives with the room's state.
    chat_.with_room([cfg, req = std::move(req), respond = std::move(respond), token,
                     claims = std::move(*claims)](chat::Room& room, chat::Output&) {
        const auto blocklist = room.cached_blocklist(claims.sub);
        respond(net::make_response(req, status::ok, kHtml,
                                   render_index(*cfg, token, true, &claims, blocklist)));
    });
}

void Pages::about(const net::Request& req, net::Respond respond) {
    const auto cfg = settings_.get();
    std::string html =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>About " +
        chat::html_escape(cfg->title) +
        "</title>\n</head>\n<body>\n"
        "<h1>About " +
        cfg->branding +
        "</h1>\n"
        "<p>This is a webcam chat room. Chat in public channels or in private, "
        "share your webcam, and watch others' cameras.</p>\n"
        "<p><a href=\"" +
        chat::html_escape(cfg->website_url) + "\">Back to the website</a></p>\n</body>\n</html>\n";
    respond(net::make_response(req, status::ok, kHtml, std::move(html)));
}

void Pages::logout(const net::Request& req, net::Respond respond) {
    respond(net::make_response(
        req, status::ok, kHtml,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>Logged out</title>\n</head>\n<body>\n<h1>Logged out</h1>\n"
        "<p>You have been logged out of the chat room. You may close this page.</p>\n"
        "<script>setTimeout(() => window.close(), 5000);</script>\n</body>\n</html>\n"));
}

}  // namespace barertc::web
