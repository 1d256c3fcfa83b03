// End-to-end tests of settings handling and the server's optional outputs: a broken
// settings.toml, /reconfigure and SIGHUP reloads, chat logs, /metrics and TURN credentials
// (config.md §1–2, decisions.md §5, §6, §8, §9, features.md §7).

#include "harness.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace e2e {
namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::filesystem::path& path, std::string_view text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string binary() {
    const char* override_binary = std::getenv("BARERTC_E2E_BINARY");
    return override_binary ? override_binary : BARERTC_BINARY;
}

TEST(SettingsE2E, BrokenSettingsFileIsRefusedAndLeftUntouched) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("barertc-broken-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string broken = "Version = 17\nTitle = 'ok'\nPermitNSFW = \"yes\"\n";
    write_file(dir / "settings.toml", broken);
    const std::string cmd =
        "cd '" + dir.string() + "' && '" + binary() + "' --address 127.0.0.1:0 2>&1 </dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string output;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) output += buf;
    const int status = pclose(p);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << output;
    EXPECT_NE(output.find("settings.toml:3:14"), std::string::npos) << output;
    EXPECT_EQ(read_file(dir / "settings.toml"), broken);
    std::filesystem::remove_all(dir);
}

TEST(SettingsE2E, ReconfigureAndSighupReloadTheFile) {
    Server server;
    WsClient boss(server.port());
    boss.login("", make_jwt({{"sub", "boss"}, {"op", true}}));
    const auto settings = server.dir() / "settings.toml";
    std::string text = read_file(settings);

    // /reconfigure picks up a new CORS host.
    const std::string old_hosts = "CORSHosts = [\"https://www.example.com\"]";
    const auto at = text.find(old_hosts);
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, old_hosts.size(), "CORSHosts = [\"https://new.example.com\"]");
    write_file(settings, text);
    boss.say("lobby", "/reconfigure");
    EXPECT_EQ(boss.recv_action("error", 5s),
              chat_server("The server config file has been reloaded successfully!"));
    auto stats =
        http_get(server.port(), "/api/statistics", {{"Origin", "https://new.example.com"}});
    EXPECT_EQ(stats.header("Access-Control-Allow-Origin"), "https://new.example.com");

    // A broken file keeps the running settings and says why.
    write_file(settings, text + "\nTitle = \n");
    boss.say("lobby", "/reconfigure");
    const auto failed = boss.recv_action("error", 5s);
    ASSERT_TRUE(failed);
    EXPECT_EQ(str(*failed, "message").rfind("Error reloading the server config: ", 0), 0u)
        << str(*failed, "message");
    stats = http_get(server.port(), "/api/statistics", {{"Origin", "https://new.example.com"}});
    EXPECT_EQ(stats.header("Access-Control-Allow-Origin"), "https://new.example.com");

    // SIGHUP does the same as /reconfigure.
    write_file(settings, text.replace(text.find("https://new.example.com"),
                                      std::string_view("https://new.example.com").size(),
                                      "https://hup.example.com"));
    server.send_signal(SIGHUP);
    bool reloaded = false;
    for (int i = 0; i < 50 && !reloaded; ++i) {
        std::this_thread::sleep_for(50ms);
        stats = http_get(server.port(), "/api/statistics", {{"Origin", "https://hup.example.com"}});
        reloaded = stats.header("Access-Control-Allow-Origin") == "https://hup.example.com";
    }
    EXPECT_TRUE(reloaded) << server.log();
    // The chat kept running throughout.
    WsClient alice(server.port());
    alice.login("alice");
    alice.say("lobby", "still here");
    EXPECT_TRUE(boss.recv_action("message"));
}

TEST(SettingsE2E, ChatLogsRecordRawTextOfLoggedChannelsAndUsers) {
    ServerConfig config;
    config.replace_toml = {{"[Logging]\nEnabled = false", "[Logging]\nEnabled = true"},
                           {"Usernames = []", "Usernames = [\"alice\"]"}};
    Server server(config);
    WsClient alice(server.port());
    WsClient bob(server.port());
    alice.login("alice");
    bob.login("bob");
    alice.say("lobby", "hello **world**");
    bob.say("vip", "not logged");
    bob.send({{"action", "message"}, {"channel", "@alice"}, {"message", "psst"}});
    ASSERT_TRUE(alice.recv_action("message"));
    alice.sync();
    bob.sync();
    const auto lobby = server.dir() / "logs" / "lobby.txt";
    const auto dm = server.dir() / "logs" / "@alice" / "bob.txt";
    std::string lobby_text, dm_text;
    for (int i = 0; i < 50 && (lobby_text.empty() || dm_text.empty()); ++i) {
        std::this_thread::sleep_for(50ms);
        lobby_text = read_file(lobby);
        dm_text = read_file(dm);
    }
    EXPECT_NE(lobby_text.find(" [alice] hello **world**\n"), std::string::npos) << lobby_text;
    EXPECT_NE(dm_text.find(" [bob] psst\n"), std::string::npos) << dm_text;
    EXPECT_FALSE(std::filesystem::exists(server.dir() / "logs" / "vip.txt"));
}

TEST(SettingsE2E, MetricsNeedTheSettingAndTheKey) {
    {
        Server off;
        const auto page =
            http_get(off.port(), "/metrics", {{"Authorization", "Bearer " + std::string(kApiKey)}});
        EXPECT_EQ(page.status, 200u);
        EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    }
    ServerConfig config;
    config.extra_toml = "\n[Metrics]\nEnabled = true\n";
    Server server(config);
    WsClient alice(server.port());
    alice.login("alice");
    EXPECT_EQ(http_get(server.port(), "/metrics").status, 401u);
    EXPECT_EQ(http_get(server.port(), "/metrics", {{"Authorization", "Bearer wrong"}}).status,
              401u);
    http_get(server.port(), "/api/statistics");
    const auto metrics =
        http_get(server.port(), "/metrics", {{"Authorization", "Bearer " + std::string(kApiKey)}});
    EXPECT_EQ(metrics.status, 200u);
    EXPECT_NE(metrics.body.find("\nbarertc_users_online 1\n"), std::string::npos) << metrics.body;
    EXPECT_NE(
        metrics.body.find("barertc_api_requests_total{path=\"/api/statistics\",status=\"200\"} 1"),
        std::string::npos)
        << metrics.body;
}

TEST(SettingsE2E, TurnSharedSecretGivesTimeLimitedCredentials) {
    ServerConfig config;
    config.replace_toml = {
        {"Credential = \"\"", "Credential = \"fixed\"\nSharedSecret = \"s3cret\""}};
    Server server(config);
    const auto page = http_get(server.port(), "/?jwt=" + user_jwt("alice"));
    ASSERT_EQ(page.status, 200u) << page.body;
    EXPECT_EQ(page.body.find("fixed"), std::string::npos);
    EXPECT_EQ(page.body.find("s3cret"), std::string::npos);
    const auto at = page.body.find("const TURN = ");
    ASSERT_NE(at, std::string::npos);
    const auto line = page.body.substr(at, page.body.find('\n', at) - at);
    EXPECT_NE(line.find(":alice\""), std::string::npos) << line;
}

}  // namespace
}  // namespace e2e
