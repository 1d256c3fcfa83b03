#pragma once
// Time formatting shared by the protocol and the API: RFC 3339 in the server's local zone,
// and Go's time.Duration.String() (the original prints durations in user-visible texts).

#include <chrono>
#include <cstdint>
#include <string>

namespace barertc::timefmt {

using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;

// "2025-07-02T13:53:22-04:00" (or "...Z" for UTC), seconds precision, local time zone.
std::string rfc3339_local(std::int64_t unix_seconds);

// Go's time.RFC1123 in the local zone: "Wed, 02 Jul 2025 13:53:22 EDT".
std::string rfc1123_local(std::int64_t unix_seconds);

// Go's Duration.String(): "23h59m58.431s", "1m30s", "500ms", "0s".
std::string go_duration(std::chrono::nanoseconds d);

inline std::int64_t unix_seconds(WallTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace barertc::timefmt
