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
    };
}

bool WebApi::handles(std::string_view path) const { return routes_.contains(path); }

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
    chat_.with_room([this, req = std::move(req), respond = std::move(respond)](
                        chat::Room& room, chat::Output&) {
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
    const auto token = auth::sign(auth::refreshed(std::move(claims), now),
                                  settings_.get()->jwt.secret_key);
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
