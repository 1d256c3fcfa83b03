// Fuzzes the web API (api/web_api, api/user_endpoints, api/post_request): the real WebApi
// handlers with a real ChatService and Room, driven without any socket. The first input byte
// picks the endpoint (and sometimes a wrong method or content type); the rest is the request
// body. In the body, "$KEY" becomes the configured AdminAPIKey and "$JWT" a valid token of the
// logged-in user "alice", so the fuzzer gets past authentication into every handler's logic.
// Each request must be answered exactly once with a JSON body (the io_context is polled
// in-thread until the room's strand is idle).

#include "api/web_api.hpp"
#include "auth/jwt.hpp"
#include "config/live_settings.hpp"
#include "net/chat_service.hpp"
#include "net/http_types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace {

using namespace barertc;

constexpr std::string_view kSecret = "fuzz-api-secret";
constexpr std::string_view kKey = "fuzz-admin-key";

const char* const kPaths[] = {
    "/api/statistics", "/api/authenticate",    "/api/authentication",    "/api/blocklist",
    "/api/amend-jwt",  "/api/shutdown",        "/api/block/now",         "/api/disconnect/now",
    "/api/profile",    "/api/message/history", "/api/message/usernames", "/api/message/clear",
};

struct World {
    boost::asio::io_context ioc;
    config::LiveSettings settings{[] {
        auto s = config::default_settings();
        s.admin_api_key = std::string(kKey);
        s.jwt.enabled = true;
        s.jwt.secret_key = std::string(kSecret);
        return s;
    }()};
    net::ChatService chat{ioc, settings, std::chrono::system_clock::now(), 1};
    api::WebApi api{settings, chat};

    void poll() {
        ioc.restart();
        ioc.poll();
    }
    // alice (an operator) and bob are online, so the user endpoints find them.
    void log_in_users() {
        chat.with_room([](chat::Room& room, chat::Output& out) {
            const auto now = std::chrono::system_clock::now();
            for (chat::SessionId id : {1u, 2u}) {
                if (room.is_authenticated(id)) continue;
                room.connect(id, {});
                chat::ClientMessage m;
                m.action = "login";
                m.username = id == 1 ? "alice" : "bob";
                room.handle(id, std::move(m), now, out);
            }
        });
        poll();
    }
};

World& world() {
    static World* w = new World;  // never destroyed: the fuzzer exits without unwinding
    return *w;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    World& w = world();
    w.log_in_users();

    const std::uint8_t selector = data[0];
    std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    if (body.find('$') != std::string::npos) {
        auth::Claims c;
        c.sub = "alice";
        c.op = true;
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        replace_all(body, "$KEY", kKey);
        replace_all(body, "$JWT", auth::sign(auth::refreshed(c, now), kSecret));
    }

    net::Request req;
    req.method(selector & 0x80 ? net::http::verb::get : net::http::verb::post);
    req.target(kPaths[(selector & 0x7f) % std::size(kPaths)]);
    req.version(11);
    req.set(net::http::field::content_type, selector & 0x40 ? "text/plain" : "application/json");
    if (selector & 0x20) req.set(net::http::field::origin, "https://www.example.com");
    req.body() = std::move(body);
    req.prepare_payload();

    int answers = 0;
    net::Response last;
    w.api.handle(std::move(req), {"127.0.0.1"}, [&](net::Response res) {
        ++answers;
        last = std::move(res);
    });
    w.poll();
    if (answers != 1) __builtin_trap();
    boost::system::error_code ec;
    (void)boost::json::parse(last.body(), ec);
    if (ec) __builtin_trap();
    return 0;
}
