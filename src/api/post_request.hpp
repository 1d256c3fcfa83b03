#pragma once
// The conventions every POST endpoint shares (api.md §2): method, exact content type, one
// JSON value decoded with case-insensitive keys, errors worded like the original's decoder.

#include "net/http_types.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

namespace barertc::api {

// A decoded request body, or the error response to send instead.
struct PostBody {
    std::optional<boost::json::object> body;
    net::http::status error_status = net::http::status::ok;
    std::string error;
};

// The JSON type name Go's decoder errors use: "string", "number", "bool", "array", ...
std::string_view json_kind(const boost::json::value& v);

// Steps 1–3 of api.md §2. The body is the first JSON value of the request; trailing data is
// ignored, as the original's decoder does.
PostBody read_post_body(const net::Request& req);

// Go-style decoding messages for a first JSON value: "EOF", "unexpected EOF",
// "invalid character 'x' looking for beginning of value".
std::optional<boost::json::value> decode_first_value(std::string_view text, std::string& error);

// Typed, case-insensitive field access. Each returns false and sets `error` when the field is
// present with a wrong JSON type; a missing or null field leaves `out` unchanged.
class Fields {
  public:
    Fields(const boost::json::object& obj, std::string& error) : obj_(obj), error_(error) {}
    bool get(std::string_view key, std::string& out);
    bool get(std::string_view key, bool& out);
    bool get(std::string_view key, std::int64_t& out);
    bool get(std::string_view key, std::vector<std::string>& out);
    // Returns the raw value (object etc.), or nullptr when absent.
    const boost::json::value* raw(std::string_view key) const;

  private:
    bool type_error(std::string_view key, const boost::json::value& v, std::string_view want);
    const boost::json::object& obj_;
    std::string& error_;
};

// A JSON response (api.md §2): Go-style indented body with a trailing newline.
net::Response json_response(const net::Request& req, net::http::status status,
                            const boost::json::object& body);
// {"OK": false, "Error": text} plus any extra keys that are always present.
net::Response error_response(const net::Request& req, net::http::status status,
                             std::string_view text, boost::json::object extra = {});

}  // namespace barertc::api
