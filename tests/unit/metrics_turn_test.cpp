// /metrics exposition text (checked by Prometheus' own promtool) and TURN REST credentials.

#include "util/metrics.hpp"
#include "web/pages.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

using namespace barertc;

TEST(Metrics, ExpositionTextHasEveryMetricWithItsValue) {
    metrics::counters().count_api("/api/statistics", 200);
    metrics::counters().count_api("/api/statistics", 200);
    metrics::counters().count_api("/api/authenticate", 401);
    const std::string text =
        metrics::render({.users_online = 3, .connections = 5, .outbox_bytes = 42});
    EXPECT_NE(text.find("# TYPE barertc_users_online gauge\nbarertc_users_online 3\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("barertc_connections 5\n"), std::string::npos);
    EXPECT_NE(text.find("barertc_outbox_bytes 42\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE barertc_deliveries_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("barertc_api_requests_total{path=\"/api/statistics\",status=\"200\"} 2\n"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find("barertc_api_requests_total{path=\"/api/authenticate\",status=\"401\"} 1\n"),
        std::string::npos);
}

TEST(Metrics, PromtoolAcceptsTheExposition) {
    if (!std::filesystem::exists("/usr/bin/promtool")) {
        GTEST_FAIL() << "promtool is missing: scripts/setup.sh installs Debian's prometheus";
    }
    metrics::counters().count_api("/api/odd\"path\\", 500);
    const auto path = std::filesystem::temp_directory_path() / "barertc-metrics-test.txt";
    std::ofstream(path) << metrics::render(
        {.users_online = 1, .connections = 2, .outbox_bytes = 0});
    const std::string cmd = "/usr/bin/promtool check metrics < " + path.string() + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string output;
    char buf[256];
    while (fgets(buf, sizeof buf, p)) output += buf;
    const int status = pclose(p);
    std::filesystem::remove(path);
    EXPECT_EQ(status, 0) << output;
}

TEST(TurnCredentials, CoturnRestFormat) {
    config::TurnSettings turn;
    turn.shared_secret = "s3cret";
    turn.credential_ttl = 86400;
    const auto [username, credential] = web::turn_rest_credentials(turn, "alice", 1000);
    EXPECT_EQ(username, "87400:alice");
    // printf '87400:alice' | openssl dgst -sha1 -hmac s3cret -binary | base64
    EXPECT_EQ(credential, "UTUcSuNGiVUajL6qIB1eh+xCOZo=");
}

}  // namespace
