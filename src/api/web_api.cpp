#include "api/web_api.hpp"

#include "api/post_request.hpp"
#include "auth/jwt.hpp"
#include "util/time_format.hpp"

#include <boost/json/array.hpp>

namespace barertc::api {

namespace bj = boost::json;
using net::http::status;

WebApi::WebApi(config::LiveSettings& settings, net::ChatService& chat)
    : settings_(settings), chat_(chat) {
    routes_ = {
        {"/api/statistics", &WebApi::statistics},
        // The original registers /api/authenticate; its documentation says
        // /api/authentication. Both work here (api.md §1).
        {"/api/authenticate", &WebApi::authenticate},
        {"/api/authentication", &WebApi::authenticate},
        {"/api/blocklist", &WebApi::blocklist},
        {"/api/amend-jwt", &WebApi::amend_jwt},
        {"/api/shutdown", &WebApi::shutdown},
        {"/api/block/now", &WebApi::block_now},
        {"/api/disconnect/now", &WebApi::disconnect_now},
        {"/api/profile", &WebApi::profile},
        {"/api/message/history", &WebApi::message_history},
        {"/api/message/usernames", &WebApi::message_usernames},
        {"/api/message/clear", &WebApi::message_clear},
    };
}

bool WebApi::handles(std::string_view path) const {
    return routes_.contains(path);
}

void WebApi::handle(net::Request req, net::RequestContext, net::Respond respond) {
    std::string_view target = req.target();
    const auto path = target.substr(0, target.find('?'));
    auto it = routes_.find(path);
    if (it == routes_.end()) return;
    (this->*(it->second))(std::move(req), std::move(respond));
}

bool WebApi::api_key_ok(std::string_view given) const {
    const auto cfg = settings_.get();
    if (cfg->admin_api_key.empty()) return false;
    return auth::constant_time_equal(given, cfg->admin_api_key);
}

// GET (any method) /api/statistics, with CORS for the configured hosts only (api.md §4).
void WebApi::statistics(net::Request req, net::Respond respond) {
    chat_.with_room([this, req = std::move(req), respond = std::move(respond)](chat::Room& room,
                                                                               chat::Output&) {
        const auto st = room.statistics();
        bj::object body;
        body["UserCount"] = st.user_count;
        bj::array names;
        for (const auto& n : st.usernames) names.emplace_back(n);
        body["Usernames"] = std::move(names);
        bj::object cameras;
        cameras["Blue"] = st.blue_cameras;
        cameras["Red"] = st.red_cameras;
        body["Cameras"] = std::move(cameras);
        auto res = json_response(req, status::ok, body);
        if (auto origin = req.find(net::http::field::origin); origin != req.end()) {
            const auto cfg = settings_.get();
            for (const auto& host : cfg->cors_hosts) {
                if (host == origin->value()) {
                    res.set(net::http::field::access_control_allow_origin, host);
                    break;
                }
            }
        }
        respond(std::move(res));
    });
}

// POST /api/authenticate: sign a five-minute token for the given claims (api.md §5).
void WebApi::authenticate(net::Request req, net::Respond respond) {
    auto post = read_post_body(req);
    if (!post.body) return respond(error_response(req, post.error_status, post.error));
    std::string error;
    Fields fields(*post.body, error);
    std::string key;
    if (!fields.get("APIKey", key)) return respond(error_response(req, status::bad_request, error));
    auth::Claims claims;
    if (const auto* raw = fields.raw("Claims"); raw && !raw->is_null()) {
        if (!raw->is_object()) {
            return respond(error_response(
                req, status::bad_request,
                "json: cannot unmarshal value into Go struct field Claims of type object"));
        }
        auto decoded = auth::claims_from_json(raw->get_object(), error);
        if (!decoded) return respond(error_response(req, status::bad_request, error));
        claims = std::move(*decoded);
    }
    if (!api_key_ok(key)) {
        return respond(error_response(req, status::unauthorized, "Authentication denied."));
    }
    const auto now = timefmt::unix_seconds(std::chrono::system_clock::now());
    const auto token =
        auth::sign(auth::refreshed(std::move(claims), now), settings_.get()->jwt.secret_key);
    bj::object body;
    body["OK"] = true;
    body["JWT"] = token;
    respond(json_response(req, status::ok, body));
}

// POST /api/blocklist: remember a user's blocklist for their next login (api.md §8).
void WebApi::blocklist(net::Request req, net::Respond respond) {
    auto post = read_post_body(req);
    if (!post.body) return respond(error_response(req, post.error_status, post.error));
    std::string error;
    Fields fields(*post.body, error);
    std::string key, username;
    std::vector<std::string> list;
    if (!fields.get("APIKey", key) || !fields.get("Username", username) ||
        !fields.get("Blocklist", list)) {
        return respond(error_response(req, status::bad_request, error));
    }
    if (!api_key_ok(key)) {
        return respond(error_response(req, status::unauthorized, "Authentication denied."));
    }
    chat_.with_room([req = std::move(req), respond = std::move(respond), username,
                     list = std::move(list)](chat::Room& room, chat::Output&) mutable {
        room.cache_blocklist(username, std::move(list));
        bj::object body;
        body["OK"] = true;
        respond(json_response(req, status::ok, body));
    });
}

}  // namespace barertc::api

namespace barertc::api {

namespace {
bj::object ok_body() {
    bj::object body;
    body["OK"] = true;
    return body;
}
}  // namespace

// POST /api/amend-jwt: replace an online user's claims (api.md §6).
void WebApi::amend_jwt(net::Request req, net::Respond respond) {
    auto post = read_post_body(req);
    if (!post.body) return respond(error_response(req, post.error_status, post.error));
    std::string error, key, username, token;
    Fields fields(*post.body, error);
    if (!fields.get("APIKey", key) || !fields.get("Username", username) ||
        !fields.get("JWTToken", token)) {
        return respond(error_response(req, status::bad_request, error));
    }
    if (!api_key_ok(key)) {
        return respond(error_response(req, status::unauthorized, "Authentication denied."));
    }
    const auto now = std::chrono::system_clock::now();
    auto verified =
        auth::verify(token, settings_.get()->jwt.secret_key, timefmt::unix_seconds(now));
    if (token.empty() || !verified.ok) {
        return respond(error_response(req, status::unauthorized, "Invalid JWT token."));
    }
    chat_.with_room(
        [req = std::move(req), respond = std::move(respond), username, now,
         claims = std::move(verified.claims)](chat::Room& room, chat::Output& out) mutable {
            if (!room.amend_claims(username, std::move(claims), now, out)) {
                return respond(
                    error_response(req, status::not_found, "User " + username + " is not online"));
            }
            respond(json_response(req, status::ok, ok_body()));
        });
}

// POST /api/shutdown: answer, warn everyone, then exit with status 1 (api.md §7).
void WebApi::shutdown(net::Request req, net::Respond respond) {
    auto post = read_post_body(req);
    if (!post.body) return respond(error_response(req, post.error_status, post.error));
    std::string error, key;
    Fields fields(*post.body, error);
    if (!fields.get("APIKey", key)) return respond(error_response(req, status::bad_request, error));
    if (!api_key_ok(key)) {
        return respond(error_response(req, status::unauthorized, "Authentication denied."));
    }
    respond(json_response(req, status::ok, ok_body()));
    chat_.with_room([](chat::Room& room, chat::Output& out) {
        room.broadcast_notice("The chat server is going down for a reboot NOW!", out);
    });
    if (shutdown_) shutdown_();
}

// POST /api/block/now: block every online pair among the names (api.md §9).
void WebApi::block_now(net::Request req, net::Respond respond) {
    auto post = read_post_body(req);
    if (!post.body) return respond(error_response(req, post.error_status, post.error));
    std::string error, key;
    std::vector<std::string> usernames;
    Fields fields(*post.body, error);
    if (!fields.get("APIKey", key) || !fields.get("Usernames", usernames)) {
        return respond(error_response(req, status::bad_request, error));
    }
    if (!api_key_ok(key)) {
        return respond(error_response(req, status::unauthorized, "Authentication denied."));
    }
    chat_.with_room([req = std::move(req), respond = std::move(respond),
                     usernames = std::move(usernames)](chat::Room& room, chat::Output& out) {
        room.block_now(usernames, std::chrono::system_clock::now(), out);
        respond(json_response(req, status::ok, ok_body()));
    });
}

// POST /api/disconnect/now: remove users from the room (api.md §10).
void WebApi::disconnect_now(net::Request req, net::Respond respond) {
    auto fail = [&](status st, std::string_view text) {
        bj::object extra;
        extra["Removed"] = 0;
        respond(error_response(req, st, text, std::move(extra)));
    };
    auto post = read_post_body(req);
    if (!post.body) return fail(post.error_status, post.error);
    std::string error, key, message;
    std::vector<std::string> usernames;
    bool kick = false;
    Fields fields(*post.body, error);
    if (!fields.get("APIKey", key) || !fields.get("Usernames", usernames) ||
        !fields.get("Message", message) || !fields.get("Kick", kick)) {
        return fail(status::bad_request, error);
    }
    if (!api_key_ok(key)) return fail(status::unauthorized, "Authentication denied.");
    chat_.with_room([req = std::move(req), respond = std::move(respond),
                     usernames = std::move(usernames), message,
                     kick](chat::Room& room, chat::Output& out) {
        const auto removed =
            room.disconnect_now(usernames, message, kick, std::chrono::system_clock::now(), out);
        bj::object body = ok_body();
        body["Removed"] = removed;
        respond(json_response(req, status::ok, body));
    });
}

}  // namespace barertc::api
