#include "util/json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace barertc::json {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Per-byte classes for the string scanner, so the common case (plain ASCII) is one table
// lookup per byte and runs of safe bytes are copied in one append.
enum ByteClass : unsigned char { kSafe = 0, kEscape = 1, kMultiByte = 2 };

constexpr std::array<unsigned char, 256> make_byte_classes() {
    std::array<unsigned char, 256> t{};
    for (int b = 0; b < 256; ++b) {
        if (b < 0x20 || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&') {
            t[b] = kEscape;
        } else if (b >= 0x80) {
            t[b] = kMultiByte;
        } else {
            t[b] = kSafe;
        }
    }
    return t;
}

constexpr std::array<unsigned char, 256> kByteClass = make_byte_classes();

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the lead byte does not begin
// one. Same acceptance as Go's utf8.DecodeRune (no overlongs, no surrogates, max U+10FFFF),
// because Go replaces exactly one byte per failed decode and we must replace the same bytes.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = at(i);
    std::size_t len;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0)
            lo = 0xA0;  // overlong
        else if (b0 == 0xED)
            hi = 0x9F;  // UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0)
            lo = 0x90;  // overlong
        else if (b0 == 0xF4)
            hi = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() - i < len) return 0;
    const unsigned char b1 = at(i + 1);
    if (b1 < lo || b1 > hi) return 0;
    for (std::size_t k = 2; k < len; ++k) {
        const unsigned char b = at(i + k);
        if (b < 0x80 || b > 0xBF) return 0;
    }
    return len;
}

void append_escaped_ascii(std::string& out, unsigned char b) {
    switch (b) {
        case '"':
            out.append("\\\"", 2);
            break;
        case '\\':
            out.append("\\\\", 2);
            break;
        // Go 1.22 and later write \b and \f as short escapes rather than \u0008 / \u000c.
        case '\b':
            out.append("\\b", 2);
            break;
        case '\f':
            out.append("\\f", 2);
            break;
        case '\n':
            out.append("\\n", 2);
            break;
        case '\r':
            out.append("\\r", 2);
            break;
        case '\t':
            out.append("\\t", 2);
            break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', kHex[b >> 4], kHex[b & 0xF]};
            out.append(esc, 6);
        }
    }
}

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// Go's float64 encoding: shortest round-trip digits, plain notation unless the magnitude is
// below 1e-6 or at least 1e21, and exponents without a leading zero ("1e-7", "1e+21").
void append_double(std::string& out, double v) {
    if (!std::isfinite(v)) {
        // Go refuses to encode these at all; null keeps the output valid JSON.
        out.append("null", 4);
        return;
    }
    char buf[64];
    const double a = std::fabs(v);
    const bool sci = a != 0 && (a < 1e-6 || a >= 1e21);
    const auto r = std::to_chars(buf, buf + sizeof buf, v,
                                 sci ? std::chars_format::scientific : std::chars_format::fixed);
    std::size_t n = static_cast<std::size_t>(r.ptr - buf);
    if (sci && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
        buf[n - 2] = buf[n - 1];
        --n;
    }
    out.append(buf, n);
}

void append_newline_indent(std::string& out, int depth) {
    out.push_back('\n');
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

// `depth` < 0 selects compact output; otherwise it is the current nesting level.
void write_value(std::string& out, const boost::json::value& v, int depth) {
    switch (v.kind()) {
        case boost::json::kind::null:
            out.append("null", 4);
            break;
        case boost::json::kind::bool_:
            if (v.get_bool())
                out.append("true", 4);
            else
                out.append("false", 5);
            break;
        case boost::json::kind::int64:
            append_int(out, v.get_int64());
            break;
        case boost::json::kind::uint64:
            append_uint(out, v.get_uint64());
            break;
        case boost::json::kind::double_:
            append_double(out, v.get_double());
            break;
        case boost::json::kind::string:
            append_string(out, v.get_string());
            break;
        case boost::json::kind::array: {
            const auto& arr = v.get_array();
            out.push_back('[');
            if (!arr.empty()) {
                const int inner = depth < 0 ? depth : depth + 1;
                bool first = true;
                for (const auto& item : arr) {
                    if (!first) out.push_back(',');
                    first = false;
                    if (depth >= 0) append_newline_indent(out, inner);
                    write_value(out, item, inner);
                }
                if (depth >= 0) append_newline_indent(out, depth);
            }
            out.push_back(']');
            break;
        }
        case boost::json::kind::object: {
            const auto& obj = v.get_object();
            out.push_back('{');
            if (!obj.empty()) {
                const int inner = depth < 0 ? depth : depth + 1;
                bool first = true;
                for (const auto& kv : obj) {
                    if (!first) out.push_back(',');
                    first = false;
                    if (depth >= 0) append_newline_indent(out, inner);
                    append_string(out, kv.key());
                    if (depth >= 0)
                        out.append(": ", 2);
                    else
                        out.push_back(':');
                    write_value(out, kv.value(), inner);
                }
                if (depth >= 0) append_newline_indent(out, depth);
            }
            out.push_back('}');
            break;
        }
    }
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    std::size_t start = 0;  // first byte not yet copied to `out`
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const auto b = static_cast<unsigned char>(s[i]);
        const unsigned char cls = kByteClass[b];
        if (cls == kSafe) {
            ++i;
            continue;
        }
        if (cls == kEscape) {
            out.append(s.data() + start, i - start);
            append_escaped_ascii(out, b);
            start = ++i;
            continue;
        }
        const std::size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            // Go writes the replacement as the six-character escape, not as raw U+FFFD.
            out.append(s.data() + start, i - start);
            out.append("\\ufffd", 6);
            start = ++i;
            continue;
        }
        // U+2028 / U+2029 (E2 80 A8 / E2 80 A9) are valid JSON but end a JavaScript line.
        if (len == 3 && b == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
            out.append(s.data() + start, i - start);
            out.append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029", 6);
            i += 3;
            start = i;
            continue;
        }
        i += len;
    }
    out.append(s.data() + start, n - start);
    out.push_back('"');
}

std::string compact(const boost::json::value& v) {
    std::string out;
    out.reserve(256);
    write_value(out, v, -1);
    return out;
}

std::string indented(const boost::json::value& v) {
    std::string out;
    out.reserve(512);
    write_value(out, v, 0);
    out.push_back('\n');
    return out;
}

ObjectWriter& ObjectWriter::key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    append_string(out_, k);
    out_.push_back(':');
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view k, std::string_view v) {
    key(k);
    append_string(out_, v);
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view k, std::int64_t v) {
    key(k);
    append_int(out_, v);
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view k, bool v) {
    key(k);
    if (v)
        out_.append("true", 4);
    else
        out_.append("false", 5);
    return *this;
}

ObjectWriter& ObjectWriter::raw(std::string_view k, std::string_view json) {
    key(k);
    out_.append(json);
    return *this;
}

}  // namespace barertc::json
