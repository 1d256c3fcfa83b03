#pragma once
// JSON output that matches Go's encoding/json byte for byte: the original server's clients
// and tests compare bytes, so '<', '>', '&', U+2028 and U+2029 are escaped as \u003c etc.,
// and API responses are indented by two spaces with a trailing newline.

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace barertc::json {

// Appends `s` as a quoted JSON string with Go's escaping rules. Invalid UTF-8 bytes are
// replaced by U+FFFD, as Go does.
void append_string(std::string& out, std::string_view s);

// Compact serialization (WebSocket frames).
std::string compact(const boost::json::value& v);
// Two-space indented serialization plus a trailing newline (HTTP API responses).
std::string indented(const boost::json::value& v);

// Incremental writer for a flat-ish JSON object in a fixed key order, used on hot paths where
// building a boost::json::value first would cost an extra allocation per field.
class ObjectWriter {
  public:
    explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
    ObjectWriter& key(std::string_view k);
    ObjectWriter& field(std::string_view k, std::string_view v);
    // Without this overload a string literal would pick field(k, bool): pointer-to-bool is a
    // standard conversion and beats the user-defined conversion to string_view.
    ObjectWriter& field(std::string_view k, const char* v) { return field(k, std::string_view(v)); }
    ObjectWriter& field(std::string_view k, std::int64_t v);
    ObjectWriter& field(std::string_view k, bool v);
    // Omits the field when the value is its zero value (Go's `omitempty`).
    ObjectWriter& field_nonempty(std::string_view k, std::string_view v) {
        return v.empty() ? *this : field(k, v);
    }
    ObjectWriter& field_nonzero(std::string_view k, std::int64_t v) {
        return v == 0 ? *this : field(k, v);
    }
    ObjectWriter& field_true(std::string_view k, bool v) { return v ? field(k, v) : *this; }
    // Appends raw, already-serialized JSON as the value of `k`.
    ObjectWriter& raw(std::string_view k, std::string_view json);
    void close() { out_.push_back('}'); }

  private:
    std::string& out_;
    bool first_ = true;
};

}  // namespace barertc::json
