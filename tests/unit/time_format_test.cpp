// Expected strings follow Go's time.Duration.String() and time.Format(time.RFC3339).
#include "util/time_format.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

using barertc::timefmt::go_duration;
using barertc::timefmt::rfc3339_local;
using namespace std::chrono_literals;

namespace {

// Sets TZ for one test and restores the previous value afterwards. POSIX TZ strings are used
// so the tests do not depend on the system's tzdata.
class ScopedTz {
  public:
    explicit ScopedTz(const char* tz) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~ScopedTz() {
        if (old_)
            ::setenv("TZ", old_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    ScopedTz(const ScopedTz&) = delete;
    ScopedTz& operator=(const ScopedTz&) = delete;

  private:
    std::optional<std::string> old_;
};

}  // namespace

TEST(GoDuration, Zero) {
    EXPECT_EQ(go_duration(0ns), "0s");
}

TEST(GoDuration, SubSecondUnits) {
    EXPECT_EQ(go_duration(1ns), "1ns");
    EXPECT_EQ(go_duration(999ns), "999ns");
    EXPECT_EQ(go_duration(1us), "1\u00b5s");
    EXPECT_EQ(go_duration(1100ns), "1.1\u00b5s");
    EXPECT_EQ(go_duration(1001ns), "1.001\u00b5s");
    EXPECT_EQ(go_duration(999999ns), "999.999\u00b5s");
    EXPECT_EQ(go_duration(1ms), "1ms");
    EXPECT_EQ(go_duration(500ms), "500ms");
    EXPECT_EQ(go_duration(1500us), "1.5ms");
    EXPECT_EQ(go_duration(1000001ns), "1.000001ms");
    EXPECT_EQ(go_duration(999999999ns), "999.999999ms");
}

TEST(GoDuration, MicroSignIsU00B5) {
    const std::string s = go_duration(2us);
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(static_cast<unsigned char>(s[1]), 0xC2);
    EXPECT_EQ(static_cast<unsigned char>(s[2]), 0xB5);
}

TEST(GoDuration, SecondsAndFractions) {
    EXPECT_EQ(go_duration(1s), "1s");
    EXPECT_EQ(go_duration(1500ms), "1.5s");
    EXPECT_EQ(go_duration(1s + 1ns), "1.000000001s");
    EXPECT_EQ(go_duration(59s), "59s");
    EXPECT_EQ(go_duration(10s + 250ms), "10.25s");
}

TEST(GoDuration, MinutesAndHours) {
    EXPECT_EQ(go_duration(60s), "1m0s");
    EXPECT_EQ(go_duration(90s), "1m30s");
    EXPECT_EQ(go_duration(3599s), "59m59s");
    EXPECT_EQ(go_duration(3600s), "1h0m0s");
    EXPECT_EQ(go_duration(2h), "2h0m0s");
    EXPECT_EQ(go_duration(1h + 1s), "1h0m1s");
    EXPECT_EQ(go_duration(61min + 1500ms), "1h1m1.5s");
    EXPECT_EQ(go_duration(23h + 59min + 58s + 431ms), "23h59m58.431s");
    EXPECT_EQ(go_duration(100h), "100h0m0s");
    EXPECT_EQ(go_duration(std::chrono::seconds(1751478802)), "486521h53m22s");
}

TEST(GoDuration, Negative) {
    EXPECT_EQ(go_duration(-90s), "-1m30s");
    EXPECT_EQ(go_duration(-1ns), "-1ns");
    EXPECT_EQ(go_duration(-1500ms), "-1.5s");
    EXPECT_EQ(go_duration(-2h), "-2h0m0s");
}

TEST(GoDuration, Extremes) {
    EXPECT_EQ(go_duration(std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::max())),
              "2562047h47m16.854775807s");
    EXPECT_EQ(go_duration(std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::min())),
              "-2562047h47m16.854775808s");
}

TEST(Rfc3339Local, Utc) {
    ScopedTz tz("UTC0");
    EXPECT_EQ(rfc3339_local(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(rfc3339_local(1751478802), "2025-07-02T17:53:22Z");
}

TEST(Rfc3339Local, NegativeOffsetWithDst) {
    ScopedTz tz("EST5EDT,M3.2.0,M11.1.0");
    EXPECT_EQ(rfc3339_local(1751478802), "2025-07-02T13:53:22-04:00");  // summer
    EXPECT_EQ(rfc3339_local(1735689600), "2024-12-31T19:00:00-05:00");  // winter
}

TEST(Rfc3339Local, PositiveHalfHourOffset) {
    ScopedTz tz("<+0530>-5:30");
    EXPECT_EQ(rfc3339_local(1751478802), "2025-07-02T23:23:22+05:30");
    EXPECT_EQ(rfc3339_local(0), "1970-01-01T05:30:00+05:30");
}

TEST(Rfc3339Local, NegativeHalfHourOffset) {
    ScopedTz tz("<-0930>9:30");
    EXPECT_EQ(rfc3339_local(1751478802), "2025-07-02T08:23:22-09:30");
}

TEST(Rfc3339Local, BeforeEpochAndFarFuture) {
    ScopedTz tz("UTC0");
    EXPECT_EQ(rfc3339_local(-1), "1969-12-31T23:59:59Z");
    EXPECT_EQ(rfc3339_local(253402300799), "9999-12-31T23:59:59Z");
}

TEST(UnixSeconds, FromTimePoint) {
    const auto t = barertc::timefmt::WallTime(std::chrono::milliseconds(1751478802999));
    EXPECT_EQ(barertc::timefmt::unix_seconds(t), 1751478802);
}
