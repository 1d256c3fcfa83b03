#include "web/site.hpp"

#include "auth/jwt.hpp"
#include "util/metrics.hpp"

#include <vector>

namespace barertc::web {

using net::http::status;

std::string clean_path(std::string_view path) {
    if (path.empty()) return "/";
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i <= path.size()) {
        const auto slash = path.find('/', i);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        const auto part = path.substr(i, end - i);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        if (slash == std::string_view::npos) break;
        i = slash + 1;
    }
    std::string out;
    for (const auto& p : parts) {
        out.push_back('/');
        out += p;
    }
    if (out.empty()) out = "/";
    if (path.back() == '/' && out != "/") out.push_back('/');
    return out;
}

void Site::handle(net::Request req, net::RequestContext ctx, net::Respond respond) {
    const std::string_view target = req.target();
    const auto query_at = target.find('?');
    const std::string_view path = target.substr(0, query_at);
    if (path.empty() || path.front() != '/') {
        return respond(net::make_response(req, status::bad_request, "text/plain; charset=utf-8",
                                          "400 Bad Request\n"));
    }
    if (const std::string clean = clean_path(path); clean != path) {
        auto res = net::make_response(req, status::moved_permanently, "", "");
        std::string location = clean;
        if (query_at != std::string_view::npos) location += target.substr(query_at);
        res.set(net::http::field::location, location);
        return respond(std::move(res));
    }
    if (path == "/poll") return poll_.handle(std::move(req), std::move(ctx), std::move(respond));
    if (path == "/metrics" && metrics(req, respond)) return;
    if (api_.handles(path)) {
        // Count every API answer by path and status for /metrics.
        auto counted = [respond = std::move(respond), name = std::string(path)](net::Response res) {
            metrics::counters().count_api(name, res.result_int());
            respond(std::move(res));
        };
        return api_.handle(std::move(req), std::move(ctx), std::move(counted));
    }
    if (path == "/about") return pages_.about(req, std::move(respond));
    if (path == "/logout") return pages_.logout(req, std::move(respond));
    if (path.starts_with("/static/") || path.starts_with("/assets/")) {
        return respond(static_.serve(req, path));
    }
    if (path == "/static" || path == "/assets") {
        auto res = net::make_response(req, status::moved_permanently, "", "");
        res.set(net::http::field::location, std::string(path) + "/");
        return respond(std::move(res));
    }
    pages_.index(std::move(req), std::move(respond));
}

bool Site::metrics(const net::Request& req, net::Respond& respond) {
    const auto cfg = settings_.get();
    if (!cfg->metrics.enabled) return false;  // like any unknown path: the chat page
    const std::string_view auth = req[net::http::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    if (cfg->admin_api_key.empty() || !auth.starts_with(kBearer) ||
        !auth::constant_time_equal(auth.substr(kBearer.size()), cfg->admin_api_key)) {
        auto res = net::make_response(req, status::unauthorized, "text/plain; charset=utf-8",
                                      "Unauthorized\n");
        res.set(net::http::field::www_authenticate, "Bearer");
        respond(std::move(res));
        return true;
    }
    chat_.gauges([req, respond](metrics::Gauges g) {
        respond(net::make_response(req, status::ok, "text/plain; version=0.0.4; charset=utf-8",
                                   metrics::render(g)));
    });
    return true;
}

}  // namespace barertc::web
