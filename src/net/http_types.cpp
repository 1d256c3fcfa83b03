#include "net/http_types.hpp"

namespace barertc::net {

Response make_response(const Request& req, http::status status, std::string_view content_type,
                       std::string body) {
    Response res{status, req.version()};
    res.set(http::field::server, "BareRTC-cpp");
    if (!content_type.empty()) res.set(http::field::content_type, content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

}  // namespace barertc::net
