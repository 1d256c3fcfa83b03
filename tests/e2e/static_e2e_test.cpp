// End-to-end tests of the built front-end files under /static/ and /assets/ (pages.md §1):
// content types, 404s, conditional requests, and that no path — "..", percent-encoded dots or
// slashes, backslashes, hidden files, symbolic links — ever reaches a file outside dist/.

#include "harness.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace e2e {
namespace {

namespace fs = std::filesystem;
using boost::beast::http::verb;

constexpr std::string_view kSecret = "top-secret-settings-content";

void write_file(const fs::path& path, std::string_view text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A working folder with dist/static, dist/assets and a secret file next to dist/.
struct StaticSite {
    fs::path dir;
    std::unique_ptr<Server> server;

    StaticSite() {
        dir =
            fs::temp_directory_path() / ("barertc-static-e2e-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        fs::remove_all(dir);
        write_file(dir / "dist/static/app.js", "console.log('hi');\n");
        write_file(dir / "dist/static/app.css", "body{color:red}\n");
        write_file(dir / "dist/static/favicon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
        write_file(dir / "dist/static/img/pixel.png", "\x89PNG\r\n\x1a\n");
        write_file(dir / "dist/static/.hidden", "hidden");
        write_file(dir / "dist/assets/index-abc123.js", "export {};\n");
        write_file(dir / "secret.txt", kSecret);
        fs::create_directory_symlink(dir, dir / "dist/static/up");               // leads out
        fs::create_symlink(dir / "secret.txt", dir / "dist/static/secret.txt");  // leads out
        fs::create_symlink(dir / "dist/static/app.css", dir / "dist/static/alias.css");  // inside
        ServerConfig config;
        config.work_dir = dir;
        server = std::make_unique<Server>(config);
        // settings.toml is in the same folder as dist/: it must never be served either.
    }
    ~StaticSite() {
        server.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::uint16_t port() const { return server->port(); }
};

void expect_not_found(std::uint16_t port, std::string_view target) {
    const auto res = http_get(port, target);
    EXPECT_EQ(res.status, 404u) << target;
    EXPECT_EQ(res.body, "404 page not found\n") << target;
    EXPECT_EQ(res.body.find(kSecret), std::string::npos) << target;
}

TEST(StaticE2E, ServesBuiltFilesWithTheirContentTypes) {
    StaticSite site;
    const auto js = http_get(site.port(), "/static/app.js");
    EXPECT_EQ(js.status, 200u);
    EXPECT_EQ(js.body, "console.log('hi');\n");
    EXPECT_EQ(js.header("Content-Type").value_or(""), "text/javascript; charset=utf-8");
    EXPECT_TRUE(js.header("Last-Modified").has_value());

    const auto css = http_get(site.port(), "/static/app.css?abcdefgh");
    EXPECT_EQ(css.status, 200u);
    EXPECT_EQ(css.header("Content-Type").value_or(""), "text/css; charset=utf-8");

    EXPECT_EQ(http_get(site.port(), "/static/favicon.svg").header("Content-Type").value_or(""),
              "image/svg+xml");
    EXPECT_EQ(http_get(site.port(), "/static/img/pixel.png").header("Content-Type").value_or(""),
              "image/png");
    const auto asset = http_get(site.port(), "/assets/index-abc123.js");
    EXPECT_EQ(asset.status, 200u);
    EXPECT_EQ(asset.body, "export {};\n");
    // A symbolic link that stays inside dist/ is fine.
    EXPECT_EQ(http_get(site.port(), "/static/alias.css").body, "body{color:red}\n");
}

TEST(StaticE2E, ConditionalRequestsAndMissingFiles) {
    StaticSite site;
    const auto first = http_get(site.port(), "/static/app.css");
    const auto modified = first.header("Last-Modified");
    ASSERT_TRUE(modified.has_value());
    const auto again = http_get(site.port(), "/static/app.css", {{"If-Modified-Since", *modified}});
    EXPECT_EQ(again.status, 304u);
    EXPECT_TRUE(again.body.empty());
    const auto old = http_get(site.port(), "/static/app.css",
                              {{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}});
    EXPECT_EQ(old.status, 200u);

    expect_not_found(site.port(), "/static/missing.js");
    expect_not_found(site.port(), "/assets/missing.js");
    expect_not_found(site.port(), "/static/img/");
    const auto bare = http_get(site.port(), "/static");
    EXPECT_EQ(bare.status, 301u);
    EXPECT_EQ(bare.header("Location").value_or(""), "/static/");
    const auto folder = http_get(site.port(), "/static/img");
    EXPECT_EQ(folder.status, 301u);
    EXPECT_EQ(folder.header("Location").value_or(""), "/static/img/");
}

TEST(StaticE2E, TraversalNeverLeaksAFile) {
    StaticSite site;
    // Plain dot segments are cleaned and redirected first, never served.
    for (const auto* target :
         {"/static/../settings.toml", "/static/../../secret.txt", "/assets/../settings.toml"}) {
        const auto res = http_get(site.port(), target);
        EXPECT_EQ(res.status, 301u) << target;
        EXPECT_EQ(res.body.find(kSecret), std::string::npos) << target;
        EXPECT_EQ(res.body.find("AdminAPIKey"), std::string::npos) << target;
    }
    for (const auto* target : {
             "/static/%2e%2e/settings.toml",
             "/static/%2E%2E/%2e%2e/secret.txt",
             "/static/..%2fsettings.toml",
             "/static/..%2F..%2Fsecret.txt",
             "/static/%2e%2e%2fsettings.toml",
             "/static/%2fetc%2fpasswd",
             "/static/..%5csettings.toml",
             "/static/.%2e/settings.toml",
             "/static/app.js%00.png",
             "/static/%zz",
             "/static/.hidden",
             "/static/up/secret.txt",
             "/static/up/settings.toml",
             "/static/secret.txt",
             "/assets/%2e%2e/dist/static/app.js",
         }) {
        expect_not_found(site.port(), target);
    }
    // The raw request line, bypassing any client-side normalisation.
    const auto raw = raw_exchange(site.port(),
                                  "GET /static/..%2f..%2fsecret.txt HTTP/1.1\r\nHost: x\r\n"
                                  "Connection: close\r\n\r\n");
    EXPECT_NE(raw.find(" 404 "), std::string::npos);
    EXPECT_EQ(raw.find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace e2e
