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

// The image lightbox (pages.md §2): every shared image calls setModalImage(this.src).
constexpr std::string_view kModalScript =
    "function setModalImage(url) {\n"
    "  const modal = document.getElementById('photo-modal');\n"
    "  const img = document.getElementById('modalImage');\n"
    "  if (!modal || !img) return;\n"
    "  modal.dataset.returnFocus = '';\n"
    "  window.__modalReturnFocus = document.activeElement;\n"
    "  img.src = url;\n"
    "  modal.hidden = false;\n"
    "  modal.focus();\n"
    "}\n"
    "(function () {\n"
    "  const close = () => {\n"
    "    const modal = document.getElementById('photo-modal');\n"
    "    if (!modal || modal.hidden) return;\n"
    "    modal.hidden = true;\n"
    "    document.getElementById('modalImage').removeAttribute('src');\n"
    "    const back = window.__modalReturnFocus;\n"
    "    if (back && back.focus) back.focus();\n"
    "  };\n"
    "  document.addEventListener('click', (e) => {\n"
    "    if (e.target && e.target.closest && e.target.closest('#photo-modal')) close();\n"
    "  });\n"
    "  document.addEventListener('keydown', (e) => {\n"
    "    if (e.key === 'Escape') close();\n"
    "  }, true);\n"
    "})();\n";

// The <head> of the about and logout pages: our stylesheet and the theme the visitor chose in
// the chat page (stored by the page under "barertc.theme").
std::string page_head(const std::string& title) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
           chat::html_escape(title) +
           "</title>\n<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n"
           "<link rel=\"stylesheet\" href=\"/static/app.css?" +
           cache_hash() +
           "\">\n<script>try{const t=JSON.parse(localStorage.getItem('barertc.prefs')||'{}').theme;"
           "if(t)document.documentElement.dataset.theme=t;}catch(e){}</script>\n"
           "</head>\n";
}

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
    html += "</title>\n<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n";
    html += "<link rel=\"stylesheet\" href=\"/static/app.css?" + hash + "\">\n";
    html +=
        "</head>\n<body>\n"
        "<div id=\"photo-modal\" class=\"lightbox\" hidden role=\"dialog\" aria-modal=\"true\" "
        "aria-label=\"Image viewer\" tabindex=\"-1\">"
        "<button type=\"button\" class=\"lightbox-close\" aria-label=\"Close "
        "image\">&times;</button>"
        "<img id=\"modalImage\" alt=\"Shared image\"></div>\n"
        "<div id=\"app\"></div>\n<script>\n";
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
    html += kModalScript;
    html +=
        "</script>\n<noscript>This chat room needs JavaScript.</noscript>\n"
        "<script type=\"module\" src=\"/static/app.js?" +
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
    const std::string host = chat::html_escape(std::string(req[net::http::field::host]));
    const std::string title = chat::html_escape(cfg->title);
    std::string html = page_head("About " + cfg->title);
    html +=
        "<body class=\"doc-page\">\n<main class=\"doc\">\n<h1>About " + cfg->branding + "</h1>\n";
    html += "<p class=\"lead\">" + title +
            " is a webcam chat room: talk in public channels, send private messages, share "
            "pictures and broadcast your camera to the people you choose.</p>\n"
            "<nav class=\"doc-toc\" aria-label=\"Contents\"><ul>"
            "<li><a href=\"#tour\">A quick tour</a></li>"
            "<li><a href=\"#webcam\">Sharing your webcam</a></li>"
            "<li><a href=\"#features\">Things you can do</a></li>"
            "<li><a href=\"#browsers\">Supported browsers</a></li>"
            "<li><a href=\"#privacy\">Privacy</a></li>"
            "<li><a href=\"#trouble\">Troubleshooting</a></li></ul></nav>\n"
            "<section id=\"tour\"><h2>A quick tour</h2>\n<ul>"
            "<li><strong>Channels</strong> are listed on the left (open the menu button on a "
            "phone). A number next to a channel counts the messages you have not read yet.</li>"
            "<li><strong>Who's online</strong> is on the right (the people button on a phone). "
            "Each person shows their status, and a camera button when they are broadcasting.</li>"
            "<li><strong>Messages</strong> support Markdown: <code>**bold**</code>, "
            "<code>_italic_</code>, <code>`code`</code>, links and lists.</li>"
            "<li>Hover or focus a message to <strong>react</strong> with an emoji, "
            "<strong>take back</strong> one of your own messages, or <strong>report</strong> "
            "one that breaks the rules.</li></ul></section>\n"
            "<section id=\"webcam\"><h2>Sharing your webcam</h2>\n"
            "<p>Press <strong>Share webcam</strong> at the top of the page. Choose the camera "
            "and microphone you want to use, then start broadcasting. Your browser asks for "
            "permission the first time: allow <em>camera</em> and <em>microphone</em> for "
            "<code>" +
            host +
            "</code>.</p>\n"
            "<p>If you said no by mistake, open the padlock or site-information icon next to "
            "the address bar, set Camera and Microphone to <em>Allow</em> for <code>" +
            host +
            "</code>, and reload the page.</p>\n<ul>"
            "<li><strong>Mutual only</strong>: people must share their own camera before they "
            "can open yours.</li>"
            "<li><strong>Auto-open</strong>: when someone opens your camera, theirs opens for "
            "you too.</li>"
            "<li>You can see who is watching you, and <strong>boot</strong> anyone off your "
            "camera at any time.</li>"
            "<li>Open several cameras at once; every video tile can be resized and muted on its "
            "own.</li></ul>\n";
    if (cfg->permit_nsfw) {
        html +=
            "<h3>Explicit cameras</h3>\n<p>This room allows explicit cameras. If you are "
            "going to be sexual on camera, tick <strong>Explicit</strong> in your camera "
            "settings: your camera icon turns red so that others know before they open it. "
            "In your preferences you can choose not to see explicit cameras at all. "
            "Moderators may mark a camera as explicit for you.</p>\n";
    }
    html +=
        "</section>\n"
        "<section id=\"features\"><h2>Things you can do</h2>\n<ul>"
        "<li>Send private messages: choose a person in the Who's online list and press "
        "<em>Message</em>.</li>"
        "<li>Share pictures (JPEG, PNG or GIF, up to 8 MB) in channels that allow them: "
        "drag and drop, paste, or use the picture button.</li>"
        "<li><strong>Mute</strong> someone to stop seeing their messages, or "
        "<strong>block</strong> them so that you no longer see each other at all.</li>"
        "<li>Set your status (away, busy, ...) and turn on <em>Do not disturb</em> to close "
        "your private messages.</li>"
        "<li>Preferences (sounds, light or dark theme, timestamps, explicit cameras) are "
        "remembered by your browser.</li></ul></section>\n"
        "<section id=\"browsers\"><h2>Supported browsers</h2>\n<p>Recent versions of "
        "Chrome, Edge, Firefox and Safari on computers, Android phones, iPhones and iPads. "
        "Video uses WebRTC, which every modern browser supports.</p></section>\n"
        "<section id=\"privacy\"><h2>Privacy</h2>\n<p>Webcam video goes directly between "
        "browsers whenever possible; the chat server only helps them find each other. Public "
        "messages are kept in memory for a short while so that newcomers see the latest "
        "conversation. Private messages may be stored so that you can read them again after "
        "a reconnect; you can take back your own messages at any time.</p></section>\n"
        "<section id=\"trouble\"><h2>Troubleshooting</h2>\n<ul>"
        "<li><strong>Disconnected?</strong> The page reconnects by itself; a banner shows "
        "while it is trying.</li>"
        "<li><strong>A camera stays black?</strong> Close it and open it again; strict "
        "company or mobile networks can block direct video connections.</li>"
        "<li><strong>No camera in the list?</strong> Another application may be using it, "
        "or your browser has not been allowed to use it.</li></ul></section>\n";
    html += "<p class=\"doc-links\"><a href=\"/\">Back to the chat room</a>";
    if (!cfg->website_url.empty()) {
        html += " &middot; <a href=\"" + chat::html_escape(cfg->website_url) +
                "\">Back to the website</a>";
    }
    html += "</p>\n</main>\n</body>\n</html>\n";
    respond(net::make_response(req, status::ok, kHtml, std::move(html)));
}

void Pages::logout(const net::Request& req, net::Respond respond) {
    std::string html = page_head("Logged out");
    html +=
        "<body class=\"doc-page\">\n<main class=\"doc doc-narrow\">\n<h1>You are logged "
        "out</h1>\n<p class=\"lead\">You have left the chat room. You may close this page "
        "now.</p>\n<p>This window closes by itself in a few seconds.</p>\n"
        "<p class=\"doc-links\"><a href=\"/\">Enter the chat room again</a></p>\n</main>\n"
        "<script>setTimeout(() => window.close(), 5000);</script>\n</body>\n</html>\n";
    respond(net::make_response(req, status::ok, kHtml, std::move(html)));
}

}  // namespace barertc::web
