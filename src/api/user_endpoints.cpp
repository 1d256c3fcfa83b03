// The endpoints the chat page calls with the user's own token (api.md §3, §11–§14): profile
// cards through the profile webhook, and the DM history.

#include "api/post_request.hpp"
#include "api/web_api.hpp"
#include "hooks/webhook_client.hpp"
#include "store/dm_history.hpp"
#include "util/json_writer.hpp"
#include "util/time_format.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

namespace barertc::api {

namespace bj = boost::json;
using net::http::status;

namespace {
constexpr std::string_view kNoDatabase = "database is not initialized";
constexpr std::string_view kNotInRoom = "You are not logged into the chat room.";
}  // namespace

std::optional<auth::Claims> WebApi::user_token(const std::string& token, std::string& error) const {
    const auto cfg = settings_.get();
    if (!cfg->jwt.enabled || token.empty()) {
        error = "JWT authentication is not available.";
        return std::nullopt;
    }
    auto verified = auth::verify(token, cfg->jwt.secret_key,
                                 timefmt::unix_seconds(std::chrono::system_clock::now()));
    if (!verified.ok) {
        error = verified.error;
        return std::nullopt;
    }
    return std::move(verified.claims);
}

void WebApi::on_worker(std::function<void()> fn) {
    if (workers_) {
        boost::asio::post(*workers_, std::move(fn));
    } else {
        fn();
    }
}

// POST /api/profile: the profile webhook's answer, passed on (api.md §11).
void WebApi::profile(net::Request req, net::Respond respond) {
    auto post = read_post_body(req);
    if (!post.body) return respond(error_response(req, post.error_status, post.error));
    std::string error, token, username;
    Fields fields(*post.body, error);
    if (!fields.get("JWTToken", token) || !fields.get("Username", username)) {
        return respond(error_response(req, status::bad_request, error));
    }
    if (!user_token(token, error)) return respond(error_response(req, status::bad_request, error));

    auto answer = [req, respond](const std::string& body) {
        bj::error_code ec;
        bj::value parsed = bj::parse(body, ec);
        if (ec || !parsed.is_object()) {
            const std::string why =
                body.empty() ? "unexpected end of JSON input" : "invalid character in JSON input";
            return respond(error_response(
                req, status::internal_server_error,
                "Didn't get expected response for profile data: " + (ec ? why : "not an object")));
        }
        const auto& obj = parsed.get_object();
        std::int64_t code = 0;
        if (const auto* sc = obj.if_contains("StatusCode"); sc && sc->is_int64()) {
            code = sc->get_int64();
        }
        bj::object data;
        if (const auto* d = obj.if_contains("Data"); d && d->is_object()) data = d->get_object();
        // Re-shape: OK always, the others only when set (api.md §11).
        bj::object out;
        const auto* ok = data.if_contains("OK");
        out["OK"] = ok && ok->is_bool() && ok->get_bool();
        std::string data_error;
        if (const auto* e = data.if_contains("Error");
            e && e->is_string() && !e->get_string().empty()) {
            data_error = std::string(e->get_string());
            out["Error"] = *e;
        }
        if (const auto* h = data.if_contains("Headline");
            h && h->is_string() && !h->get_string().empty()) {
            out["Headline"] = *h;
        }
        if (const auto* f = data.if_contains("ProfileFields");
            f && f->is_array() && !f->get_array().empty()) {
            out["ProfileFields"] = *f;
        }
        const bool good = code == 200 && data_error.empty();
        respond(json_response(req, good ? status::ok : status::internal_server_error, out));
    };

    const auto cfg = settings_.get();
    const auto* hook = cfg->find_webhook("profile");
    if (!hook || !hook->enabled || !webhooks_) return answer("");
    bj::object body;
    body["Action"] = "profile";
    body["APIKey"] = cfg->admin_api_key;
    body["Username"] = username;
    webhooks_->post(hook->url, json::compact(body), std::chrono::seconds(10),
                    [answer](hooks::WebhookResult result) { answer(result.body); });
}

// POST /api/message/history: one page of a DM thread, newest first (api.md §12).
void WebApi::message_history(net::Request req, net::Respond respond) {
    auto fail = [&req, &respond](status st, std::string_view text) {
        bj::object extra;
        extra["Messages"] = nullptr;
        extra["Remaining"] = 0;
        respond(error_response(req, st, text, std::move(extra)));
    };
    auto post = read_post_body(req);
    if (!post.body) return fail(post.error_status, post.error);
    std::string error, token, partner;
    std::int64_t before_id = 0;
    Fields fields(*post.body, error);
    if (!fields.get("JWTToken", token) || !fields.get("Username", partner) ||
        !fields.get("BeforeID", before_id)) {
        return fail(status::bad_request, error);
    }
    auto claims = user_token(token, error);
    if (!claims) return fail(status::bad_request, error);
    const std::string me = claims->sub;
    chat_.with_room([this, req, respond, me, partner, before_id](chat::Room& room, chat::Output&) {
        auto fail = [&req, &respond](status st, std::string_view text) {
            bj::object extra;
            extra["Messages"] = nullptr;
            extra["Remaining"] = 0;
            respond(error_response(req, st, text, std::move(extra)));
        };
        if (!room.is_online(me)) return fail(status::bad_request, kNotInRoom);
        if (!history_) return fail(status::internal_server_error, kNoDatabase);
        on_worker([this, req, respond, me, partner, before_id] {
            const auto page = history_->history(me, partner, before_id);
            if (!page.error.empty()) {
                bj::object extra;
                extra["Messages"] = nullptr;
                extra["Remaining"] = 0;
                return respond(error_response(req, status::internal_server_error, page.error,
                                              std::move(extra)));
            }
            bj::array messages;
            for (const auto& row : page.messages) {
                bj::object m;
                m["username"] = row.username;
                m["message"] = row.message;
                m["msgID"] = row.id;
                m["timestamp"] = timefmt::rfc3339_local(row.timestamp);
                messages.emplace_back(std::move(m));
            }
            bj::object body;
            body["OK"] = true;
            body["Messages"] = std::move(messages);
            body["Remaining"] = page.remaining;
            respond(json_response(req, status::ok, body));
        });
    });
}

// POST /api/message/usernames: partners with stored history (api.md §13).
void WebApi::message_usernames(net::Request req, net::Respond respond) {
    auto fail = [](const net::Request& req, const net::Respond& respond, status st,
                   std::string_view text) {
        bj::object extra;
        extra["Usernames"] = nullptr;
        extra["Count"] = 0;
        extra["Pages"] = 0;
        respond(error_response(req, st, text, std::move(extra)));
    };
    auto post = read_post_body(req);
    if (!post.body) return fail(req, respond, post.error_status, post.error);
    std::string error, token, sort;
    std::int64_t page = 1;
    Fields fields(*post.body, error);
    if (!fields.get("JWTToken", token) || !fields.get("Sort", sort) || !fields.get("Page", page)) {
        return fail(req, respond, status::bad_request, error);
    }
    auto claims = user_token(token, error);
    if (!claims) return fail(req, respond, status::bad_request, error);
    const std::string me = claims->sub;
    chat_.with_room([this, req, respond, me, sort, page, fail](chat::Room& room, chat::Output&) {
        if (!room.is_online(me)) return fail(req, respond, status::bad_request, kNotInRoom);
        if (!history_) return fail(req, respond, status::internal_server_error, kNoDatabase);
        on_worker([this, req, respond, me, sort, page, fail] {
            const auto result = history_->usernames(me, sort, page);
            if (!result.error.empty()) {
                return fail(req, respond, status::internal_server_error, result.error);
            }
            bj::object body;
            body["OK"] = true;
            bj::array names;
            for (const auto& n : result.usernames) names.emplace_back(n);
            body["Usernames"] = std::move(names);
            body["Count"] = result.count;
            body["Pages"] = result.pages;
            respond(json_response(req, status::ok, body));
        });
    });
}

// POST /api/message/clear: erase a user's stored DMs (api.md §14).
void WebApi::message_clear(net::Request req, net::Respond respond) {
    auto fail = [](const net::Request& req, const net::Respond& respond, status st,
                   std::string_view text) {
        bj::object extra;
        extra["MessagesErased"] = 0;
        respond(error_response(req, st, text, std::move(extra)));
    };
    auto post = read_post_body(req);
    if (!post.body) return fail(req, respond, post.error_status, post.error);
    std::string error, token, key, username;
    Fields fields(*post.body, error);
    if (!fields.get("JWTToken", token) || !fields.get("APIKey", key) ||
        !fields.get("Username", username)) {
        return fail(req, respond, status::bad_request, error);
    }
    std::string target;
    if (!key.empty()) {
        if (!api_key_ok(key))
            return fail(req, respond, status::unauthorized, "Authentication denied.");
        target = username;
    } else {
        auto claims = user_token(token, error);
        if (!claims) return fail(req, respond, status::bad_request, error);
        target = claims->sub;
    }
    if (!history_) return fail(req, respond, status::internal_server_error, kNoDatabase);
    on_worker([this, req, respond, target, fail] {
        const auto result = history_->clear(target);
        if (!result.error.empty()) {
            return fail(req, respond, status::internal_server_error, result.error);
        }
        bj::object body;
        body["OK"] = true;
        body["MessagesErased"] = result.erased;
        respond(json_response(req, status::ok, body));
    });
}

}  // namespace barertc::api
