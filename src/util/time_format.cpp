#include "util/time_format.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace barertc::timefmt {

namespace {

// Appends `v` zero-padded to at least `width` digits, with a leading '-' for negatives (Go's
// layout code pads the magnitude, e.g. year -1 prints as "-0001").
void append_padded(std::string& out, std::int64_t v, int width) {
    std::uint64_t mag = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    if (v < 0) out.push_back('-');
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, mag);
    const auto digits = static_cast<int>(r.ptr - buf);
    if (digits < width) out.append(static_cast<std::size_t>(width - digits), '0');
    out.append(buf, r.ptr);
}

// Writes the fraction v / 10^prec in front of `w` (buffer filled from the back), without
// trailing zeros and without the '.' when the fraction is zero. Returns the new write position
// and v / 10^prec, the integer part still to print.
std::size_t put_fraction(char* buf, std::size_t w, std::uint64_t& v, int prec) {
    bool printing = false;
    for (int i = 0; i < prec; ++i) {
        const auto digit = static_cast<char>(v % 10);
        printing = printing || digit != 0;
        if (printing) buf[--w] = static_cast<char>('0' + digit);
        v /= 10;
    }
    if (printing) buf[--w] = '.';
    return w;
}

std::size_t put_uint(char* buf, std::size_t w, std::uint64_t v) {
    do {
        buf[--w] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return w;
}

}  // namespace

std::string rfc3339_local(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) return {};

    std::string out;
    out.reserve(25);
    append_padded(out, static_cast<std::int64_t>(tm.tm_year) + 1900, 4);
    out.push_back('-');
    append_padded(out, tm.tm_mon + 1, 2);
    out.push_back('-');
    append_padded(out, tm.tm_mday, 2);
    out.push_back('T');
    append_padded(out, tm.tm_hour, 2);
    out.push_back(':');
    append_padded(out, tm.tm_min, 2);
    out.push_back(':');
    append_padded(out, tm.tm_sec, 2);

    const long offset = tm.tm_gmtoff;
    if (offset == 0) {
        out.push_back('Z');
        return out;
    }
    // Like Go, the sign follows the offset in whole minutes; leftover seconds (old LMT
    // offsets) are not printed by the RFC 3339 layout.
    long minutes = offset / 60;
    if (minutes < 0) {
        out.push_back('-');
        minutes = -minutes;
    } else {
        out.push_back('+');
    }
    append_padded(out, minutes / 60, 2);
    out.push_back(':');
    append_padded(out, minutes % 60, 2);
    return out;
}

std::string go_duration(std::chrono::nanoseconds d) {
    const std::int64_t ns = d.count();
    // Unsigned magnitude so that the most negative value does not overflow.
    std::uint64_t u = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
    if (u == 0) return "0s";

    // Largest output: "-2562047h47m16.854775808s" (25 bytes); filled from the back.
    char buf[32];
    std::size_t w = sizeof buf;
    constexpr std::uint64_t kSecond = 1'000'000'000;

    if (u < kSecond) {
        // Sub-second values use the largest unit that keeps the integer part non-zero.
        int prec;
        buf[--w] = 's';
        if (u < 1'000) {
            prec = 0;
            buf[--w] = 'n';
        } else if (u < 1'000'000) {
            prec = 3;
            buf[--w] = '\xB5';  // U+00B5 MICRO SIGN, UTF-8 C2 B5, as Go prints it
            buf[--w] = '\xC2';
        } else {
            prec = 6;
            buf[--w] = 'm';
        }
        w = put_fraction(buf, w, u, prec);
        w = put_uint(buf, w, u);
    } else {
        buf[--w] = 's';
        w = put_fraction(buf, w, u, 9);
        w = put_uint(buf, w, u % 60);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            w = put_uint(buf, w, u % 60);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                w = put_uint(buf, w, u);
            }
        }
    }
    if (ns < 0) buf[--w] = '-';
    return std::string(buf + w, sizeof buf - w);
}

}  // namespace barertc::timefmt

namespace barertc::timefmt {

std::string rfc1123_local(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) return {};
    // Day and month names must be English whatever the process locale, so no strftime %a/%b.
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %s", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, tm.tm_zone ? tm.tm_zone : "UTC");
    return buf;
}

}  // namespace barertc::timefmt
