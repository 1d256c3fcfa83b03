#include "api/post_request.hpp"
#include "util/ascii.hpp"

#include "util/json_writer.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parser.hpp>

#include <algorithm>
#include <cctype>

namespace barertc::api {

namespace bj = boost::json;
using net::http::status;

std::string_view json_kind(const bj::value& v) {
    switch (v.kind()) {
        case bj::kind::bool_:
            return "bool";
        case bj::kind::int64:
        case bj::kind::uint64:
        case bj::kind::double_:
            return "number";
        case bj::kind::string:
            return "string";
        case bj::kind::array:
            return "array";
        case bj::kind::object:
            return "object";
        case bj::kind::null:
            return "null";
    }
    return "value";
}

namespace {

std::string quote_char(unsigned char c) {
    if (c == '\'') return "'\\''";
    if (c == '\n') return "'\\n'";
    if (c == '\r') return "'\\r'";
    if (c == '\t') return "'\\t'";
    if (c < 0x20 || c >= 0x7f) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "'\\x%02x'", c);
        return buf;
    }
    return std::string("'") + static_cast<char>(c) + "'";
}

}  // namespace

std::optional<bj::value> decode_first_value(std::string_view text, std::string& error) {
    const auto start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) {
        error = "EOF";
        return std::nullopt;
    }
    bj::parse_options opts;
    opts.max_depth = 64;
    bj::parser p(bj::storage_ptr(), opts);
    bj::error_code ec;
    const std::size_t used = p.write_some(text.data(), text.size(), ec);
    if (!ec) return p.release();
    if (ec == bj::error::incomplete || used >= text.size()) {
        // Ran out of input before the value ended.
        error = "unexpected EOF";
        return std::nullopt;
    }
    {
        const unsigned char c = static_cast<unsigned char>(text[used]);
        error = "invalid character " + quote_char(c) +
                (used == start ? " looking for beginning of value" : " in JSON value");
    }
    return std::nullopt;
}

PostBody read_post_body(const net::Request& req) {
    PostBody out;
    if (req.method() != net::http::verb::post) {
        out.error_status = status::bad_request;
        out.error = "Only POST methods allowed";
        return out;
    }
    if (req[net::http::field::content_type] != "application/json") {
        out.error_status = status::bad_request;
        out.error = "Only application/json content-types allowed";
        return out;
    }
    std::string error;
    auto value = decode_first_value(req.body(), error);
    if (!value) {
        out.error_status = status::bad_request;
        out.error = error;
        return out;
    }
    if (value->is_null()) {
        out.body.emplace();  // Go decodes null into an empty struct
        return out;
    }
    if (!value->is_object()) {
        out.error_status = status::bad_request;
        out.error = "json: cannot unmarshal " + std::string(json_kind(*value)) +
                    " into Go value of type object";
        return out;
    }
    out.body = std::move(value->as_object());
    return out;
}

const bj::value* Fields::raw(std::string_view key) const {
    const bj::value* found = nullptr;
    for (const auto& kv : obj_) {
        // Like Go: an exact match wins over a case-insensitive one.
        if (kv.key() == key) return &kv.value();
        if (!found && iequals_ascii(kv.key(), key)) found = &kv.value();
    }
    return found;
}

bool Fields::type_error(std::string_view key, const bj::value& v, std::string_view want) {
    error_ = "json: cannot unmarshal " + std::string(json_kind(v)) + " into Go struct field " +
             std::string(key) + " of type " + std::string(want);
    return false;
}

bool Fields::get(std::string_view key, std::string& out) {
    const auto* v = raw(key);
    if (!v || v->is_null()) return true;
    if (!v->is_string()) return type_error(key, *v, "string");
    out = std::string(v->get_string());
    return true;
}

bool Fields::get(std::string_view key, bool& out) {
    const auto* v = raw(key);
    if (!v || v->is_null()) return true;
    if (!v->is_bool()) return type_error(key, *v, "bool");
    out = v->get_bool();
    return true;
}

bool Fields::get(std::string_view key, std::int64_t& out) {
    const auto* v = raw(key);
    if (!v || v->is_null()) return true;
    if (v->is_int64()) {
        out = v->get_int64();
        return true;
    }
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        out = static_cast<std::int64_t>(v->get_uint64());
        return true;
    }
    return type_error(key, *v, "int");
}

bool Fields::get(std::string_view key, std::vector<std::string>& out) {
    const auto* v = raw(key);
    if (!v || v->is_null()) return true;
    if (!v->is_array()) return type_error(key, *v, "[]string");
    std::vector<std::string> list;
    for (const auto& e : v->get_array()) {
        if (e.is_null()) {
            list.emplace_back();
            continue;
        }
        if (!e.is_string()) return type_error(key, e, "string");
        list.emplace_back(e.get_string());
    }
    out = std::move(list);
    return true;
}

net::Response json_response(const net::Request& req, status st, const bj::object& body) {
    return net::make_response(req, st, "application/json", json::indented(body));
}

net::Response error_response(const net::Request& req, status st, std::string_view text,
                             bj::object extra) {
    bj::object body;
    body["OK"] = false;
    body["Error"] = text;
    for (auto& kv : extra) body[kv.key()] = std::move(kv.value());
    return json_response(req, st, body);
}

}  // namespace barertc::api
