#pragma once
// The HTTP vocabulary shared by the transport and the handlers it serves.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <string>

namespace barertc::net {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
// Completes a request; may be called from any thread, exactly once.
using Respond = std::function<void(Response)>;

class ConnectionLimiter;

struct RequestContext {
    std::string remote_address;
    // The connection caps shared with WebSocket upgrades (poll sessions take a slot too);
    // null when the handler runs without a listener (unit tests).
    ConnectionLimiter* limiter = nullptr;
};

class HttpHandler {
  public:
    virtual ~HttpHandler() = default;
    virtual void handle(Request req, RequestContext ctx, Respond respond) = 0;
};

// A response with the given status, content type and body, keep-alive matching the request.
Response make_response(const Request& req, http::status status, std::string_view content_type,
                       std::string body);

}  // namespace barertc::net
