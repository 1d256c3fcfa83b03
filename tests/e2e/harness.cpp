#include "harness.hpp"

#include "auth/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>

#ifndef BARERTC_BINARY
#error "BARERTC_BINARY must name the server binary"
#endif

namespace e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out.push_back(c);
        }
    }
    out += "\"";
    return out;
}

std::string toml_list(const std::vector<std::string>& list) {
    std::string out = "[";
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (i) out += ", ";
        out += toml_string(list[i]);
    }
    return out + "]";
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

// E2E_TRACE=1 prints every WebSocket frame sent and received.
bool trace() {
    static const bool on = [] {
        const char* v = std::getenv("E2E_TRACE");
        return v && *v && std::string_view(v) != "0";
    }();
    return on;
}

// Runs `ioc` until `done` is set or `deadline` passes. Returns whether `done` was set.
bool run_until(asio::io_context& ioc, const bool& done, Clock::time_point deadline) {
    while (!done) {
        const auto now = Clock::now();
        if (now >= deadline) return false;
        ioc.restart();
        ioc.run_one_for(deadline - now);
    }
    return true;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// settings.toml

std::string settings_toml(const ServerConfig& c) {
    std::string t;
    t += "Version = 17\n";
    t += "Title = \"BareRTC e2e\"\n";
    t += "Branding = \"BareRTC\"\n";
    t += "WebsiteURL = \"https://www.example.com\"\n";
    t += "CORSHosts = " + toml_list(c.cors_hosts) + "\n";
    t += "AdminAPIKey = " + toml_string(kApiKey) + "\n";
    t += "PermitNSFW = false\n";
    t += "BlockableAdmins = false\n";
    t += "UseXForwardedFor = false\n";
    t += "WebSocketReadLimit = " + std::to_string(c.websocket_read_limit) + "\n";
    t += "WebSocketSendTimeout = 10\n";
    t += "MaxImageWidth = 1280\n";
    t += "PreviewImageWidth = 360\n";
    t += "\n[JWT]\n";
    t += std::string("Enabled = ") + (c.jwt_enabled ? "true" : "false") + "\n";
    t += std::string("Strict = ") + (c.jwt_strict ? "true" : "false") + "\n";
    t += "SecretKey = " + toml_string(c.secret_key) + "\n";
    t += "LandingPageURL = " + toml_string(c.landing_page_url) + "\n";
    t += R"(
[TURN]
URLs = ["stun:stun.l.google.com:19302"]
Username = ""
Credential = ""

[[PublicChannels]]
ID = "lobby"
Name = "Lobby"
VIP = false
PermitPhotos = false
WelcomeMessages = [
    "Welcome to the chat server!",
    "Please follow the basic rules:\n\n1. Have fun\n2. Be kind",
]
EchoMessagesOnJoin = 10

[[PublicChannels]]
ID = "offtopic"
Name = "Off Topic"
VIP = false
PermitPhotos = true
WelcomeMessages = ["Welcome to the Off Topic channel!"]
EchoMessagesOnJoin = 0

[[PublicChannels]]
ID = "vip"
Name = "VIPs Only"
VIP = true
PermitPhotos = true
WelcomeMessages = ["This channel is only for operators and VIPs."]
EchoMessagesOnJoin = 0

[[WebhookURLs]]
Name = "report"
Enabled = false
URL = "https://example.com/barertc/report"

[[WebhookURLs]]
Name = "profile"
Enabled = false
URL = "https://example.com/barertc/user-profile"

[VIP]
Name = "VIP"
Branding = "<em>VIP Members</em>"
Icon = "fa fa-circle"
MutuallySecret = false

[[MessageFilters]]
Enabled = false
PublicChannels = true
PrivateChannels = true
KeywordPhrases = ['\bswear words\b', '\b(swearing|cursing)\b', 'suck my ([^\s]+)']
CensorMessage = true
ForwardMessage = false
ReportMessage = false
ChatServerResponse = "Watch your language."

[[ModerationRule]]
Username = "example"
CameraAlwaysNSFW = false
NoBroadcast = false
NoVideo = false
NoImage = false
NoDarkVideo = false

[DirectMessageHistory]
Enabled = false
SQLiteDatabase = "database.sqlite"
RetentionDays = 90
DisclaimerMessage = "Reminder: please conduct yourself honorably in Direct Messages."

[DMLinkSpamProtection]
Enabled = true
MaxThreads = 5
TimeLimit = 3600
BanHours = 24

[Logging]
Enabled = false
Directory = "./logs"
Channels = ["lobby", "offtopic"]
Usernames = []
)";
    // Options that switch on parts of the fixed text above.
    const auto replace_once = [&t](std::string_view from, std::string_view to) {
        const auto at = t.find(from);
        if (at == std::string::npos) throw std::logic_error("settings_toml: text not found");
        t.replace(at, from.size(), to);
    };
    if (c.dm_history) {
        replace_once("[DirectMessageHistory]\nEnabled = false",
                     "[DirectMessageHistory]\nEnabled = true");
    }
    if (!c.report_webhook_url.empty()) {
        replace_once(
            "Name = \"report\"\nEnabled = false\nURL = \"https://example.com/barertc/report\"",
            "Name = \"report\"\nEnabled = true\nURL = " + toml_string(c.report_webhook_url));
    }
    if (!c.profile_webhook_url.empty()) {
        replace_once(
            "Name = \"profile\"\nEnabled = false\nURL = "
            "\"https://example.com/barertc/user-profile\"",
            "Name = \"profile\"\nEnabled = true\nURL = " + toml_string(c.profile_webhook_url));
    }
    for (const auto& [from, to] : c.replace_toml) replace_once(from, to);
    t += c.extra_toml;
    return t;
}

// ------------------------------------------------------------------------------------------
// Server process

Server::Server(const ServerConfig& config) {
    if (!config.work_dir.empty()) {
        dir_ = config.work_dir;
        keep_dir_ = true;
        std::filesystem::create_directories(dir_);
    } else {
        std::string templ =
            (std::filesystem::temp_directory_path() / "barertc-e2e-XXXXXX").string();
        if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
        dir_ = templ;
    }
    {
        std::ofstream f(dir_ / "settings.toml");
        f << settings_toml(config);
        if (!f) throw std::runtime_error("cannot write settings.toml");
    }

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
    // BARERTC_E2E_BINARY runs the tests against another build (or a wrapper script).
    const char* override_binary = std::getenv("BARERTC_E2E_BINARY");
    const std::string binary =
        override_binary && *override_binary ? override_binary : BARERTC_BINARY;
    const std::string dir = dir_.string();
    const char* argv[] = {binary.c_str(), "--address", "127.0.0.1:0", nullptr};
    const pid_t parent = getpid();

    started_unix_min_ = unix_now();
    started_ = Clock::now();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // Never outlive the test process, whatever happens to it.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(126);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        if (chdir(dir.c_str()) != 0) _exit(125);
        execv(binary.c_str(), const_cast<char* const*>(argv));
        _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];

    // Read until "Listening on port N" (at most 10 s).
    const auto deadline = Clock::now() + 10s;
    std::string seen;
    while (port_ == 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= 0ms) break;
        pollfd p{out_fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        char buf[4096];
        const ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n <= 0) break;
        seen.append(buf, static_cast<std::size_t>(n));
        const auto at = seen.find("Listening on port ");
        if (at != std::string::npos) {
            const auto eol = seen.find('\n', at);
            if (eol != std::string::npos) {
                port_ = static_cast<std::uint16_t>(std::stoi(seen.substr(at + 18, eol - at - 18)));
            }
        }
    }
    log_ = seen;
    started_unix_max_ = unix_now();
    if (port_ == 0) {
        stop(2s);
        const std::string log = this->log();
        if (!keep_dir_) std::filesystem::remove_all(dir_);
        throw std::runtime_error("server did not start; output:\n" + log);
    }
    drainer_ = std::thread([this] { drain(); });
}

std::int64_t Server::rss_kib() const {
    if (pid_ <= 0) return 0;
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) {
            try {
                return std::stoll(line.substr(6));
            } catch (const std::exception&) {
                return 0;
            }
        }
    }
    return 0;
}

void Server::drain() {
    // Polls so that it can stop even if some other process still holds the pipe open.
    char buf[4096];
    for (;;) {
        pollfd p{out_fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, 100);
        if (r < 0 && errno != EINTR) break;
        if (r <= 0) {
            if (draining_stop_) break;
            continue;
        }
        const ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::lock_guard lock(log_mutex_);
        log_.append(buf, static_cast<std::size_t>(n));
    }
}

std::string Server::log() const {
    std::lock_guard lock(log_mutex_);
    return log_;
}

int Server::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = Clock::now() + grace;
    pid_t r = 0;
    while ((r = ::waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    if (r == 0) {
        ::kill(pid_, SIGKILL);
        r = ::waitpid(pid_, &status, 0);
        ADD_FAILURE() << "server did not exit within " << grace.count() << " ms of SIGTERM; killed";
    }
    pid_ = -1;
    if (r > 0 && WIFEXITED(status))
        exit_status_ = WEXITSTATUS(status);
    else if (r > 0 && WIFSIGNALED(status))
        exit_status_ = -WTERMSIG(status);
    draining_stop_ = true;
    if (drainer_.joinable()) drainer_.join();
    if (out_fd_ >= 0) {
        close(out_fd_);
        out_fd_ = -1;
    }
    return exit_status_;
}

Server::~Server() {
    stop();
    if (::testing::Test::HasFailure()) {
        std::string log = this->log();
        if (log.size() > 8000) log = "...\n" + log.substr(log.size() - 8000);
        std::cerr << "---- server log (" << dir_.string() << ") ----\n"
                  << log << "---- end of server log ----\n";
    }
    std::error_code ec;
    if (!keep_dir_) std::filesystem::remove_all(dir_, ec);
}

void Server::send_signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Server::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return exit_status_;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r > 0) {
            reaped(status);
            return exit_status_;
        }
        if (r < 0) {
            reaped(0);
            return exit_status_;
        }
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(10ms);
    }
}

void Server::reaped(int status) {
    pid_ = -1;
    if (WIFEXITED(status))
        exit_status_ = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        exit_status_ = -WTERMSIG(status);
    draining_stop_ = true;
    if (drainer_.joinable()) drainer_.join();
    if (out_fd_ >= 0) {
        close(out_fd_);
        out_fd_ = -1;
    }
}

// ------------------------------------------------------------------------------------------
// HTTP

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return v;
    }
    return std::nullopt;
}

HttpResponse http_request(std::uint16_t port, http::verb method, std::string_view target,
                          std::string_view body, const Headers& headers,
                          std::chrono::milliseconds timeout) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    boost::system::error_code ec;
    bool done = false;
    stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                         [&](boost::system::error_code e) {
                             ec = e;
                             done = true;
                         });
    ioc.run();
    if (ec) throw std::runtime_error("connect: " + ec.message());

    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    req.set(http::field::user_agent, "barertc-e2e");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::string(body);
    if (!body.empty() || method == http::verb::post) req.prepare_payload();
    ioc.restart();
    http::async_write(stream, req, [&](boost::system::error_code e, std::size_t) { ec = e; });
    ioc.run();
    if (ec) throw std::runtime_error("write: " + ec.message());

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    ioc.restart();
    http::async_read(stream, buffer, parser,
                     [&](boost::system::error_code e, std::size_t) { ec = e; });
    ioc.run();
    if (ec) throw std::runtime_error("read: " + ec.message());
    auto res = parser.release();
    HttpResponse out;
    out.status = res.result_int();
    out.body = res.body();
    for (const auto& f : res) {
        out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return out;
}

HttpResponse http_get(std::uint16_t port, std::string_view target, const Headers& headers) {
    return http_request(port, http::verb::get, target, {}, headers);
}

HttpResponse post_json(std::uint16_t port, std::string_view target, std::string_view body) {
    return http_request(port, http::verb::post, target, body,
                        {{"Content-Type", "application/json"}});
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds timeout) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    boost::system::error_code ec;
    stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                         [&](boost::system::error_code e) { ec = e; });
    ioc.run();
    if (ec) throw std::runtime_error("connect: " + ec.message());
    ioc.restart();
    asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()),
                      [](boost::system::error_code, std::size_t) {});
    ioc.run();
    std::string out;
    std::array<char, 4096> buf{};
    for (;;) {
        std::size_t got = 0;
        ioc.restart();
        stream.async_read_some(asio::buffer(buf), [&](boost::system::error_code e, std::size_t n) {
            ec = e;
            got = n;
        });
        ioc.run();
        out.append(buf.data(), got);
        if (ec) break;
    }
    return out;
}

std::string api_error_body(std::string_view error) {
    return "{\n  \"OK\": false,\n  \"Error\": \"" + std::string(error) + "\"\n}\n";
}

// ------------------------------------------------------------------------------------------
// Webhook receiver

std::optional<std::string> ReceivedRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return v;
    }
    return std::nullopt;
}

struct WebhookReceiver::Impl {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::thread thread;
    mutable std::mutex mutex;
    mutable std::condition_variable arrived;
    std::vector<ReceivedRequest> received;
    unsigned status = 200;
    std::string body;
    std::chrono::milliseconds delay{0};

    // One connection: read one request, record it, wait, answer, close.
    struct Session : std::enable_shared_from_this<Session> {
        Impl& owner;
        beast::tcp_stream stream;
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::response<http::string_body> res;
        asio::steady_timer timer;

        Session(Impl& o, tcp::socket socket)
            : owner(o), stream(std::move(socket)), timer(stream.get_executor()) {}

        void start() {
            stream.expires_after(30s);
            http::async_read(stream, buffer, req,
                             [self = shared_from_this()](boost::system::error_code ec,
                                                         std::size_t) { self->on_read(ec); });
        }

        void on_read(boost::system::error_code ec) {
            if (ec) return finish();
            ReceivedRequest r;
            r.method = std::string(req.method_string());
            r.target = std::string(req.target());
            for (const auto& f : req) {
                r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
            }
            r.body = req.body();
            std::chrono::milliseconds wait{0};
            {
                std::lock_guard lock(owner.mutex);
                owner.received.push_back(std::move(r));
                res = http::response<http::string_body>(static_cast<http::status>(owner.status),
                                                        req.version());
                res.body() = owner.body;
                wait = owner.delay;
            }
            owner.arrived.notify_all();
            res.set(http::field::content_type, "application/json");
            res.keep_alive(false);
            res.prepare_payload();
            timer.expires_after(wait);
            timer.async_wait([self = shared_from_this()](boost::system::error_code) {
                self->stream.expires_after(30s);
                http::async_write(
                    self->stream, self->res,
                    [self](boost::system::error_code, std::size_t) { self->finish(); });
            });
        }

        void finish() {
            boost::system::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream.socket().close(ignored);
        }
    };

    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec) return;
            std::make_shared<Session>(*this, std::move(socket))->start();
            accept();
        });
    }
};

WebhookReceiver::WebhookReceiver() : impl_(std::make_unique<Impl>()) {
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), 0);
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();
    impl_->accept();
    impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

WebhookReceiver::~WebhookReceiver() {
    impl_->ioc.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

std::string WebhookReceiver::url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void WebhookReceiver::respond_with(unsigned status, std::string body,
                                   std::chrono::milliseconds delay) {
    std::lock_guard lock(impl_->mutex);
    impl_->status = status;
    impl_->body = std::move(body);
    impl_->delay = delay;
}

std::vector<ReceivedRequest> WebhookReceiver::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->received;
}

std::vector<ReceivedRequest> WebhookReceiver::wait_for(std::size_t count,
                                                       std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    impl_->arrived.wait_for(lock, timeout, [&] { return impl_->received.size() >= count; });
    return impl_->received;
}

// ------------------------------------------------------------------------------------------
// JWT

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The project's codec (auth/jwt, unit-tested against known vectors), not a second one here.
std::string base64url_encode(std::string_view data) {
    return barertc::auth::base64url_encode(data);
}

std::string base64url_decode(std::string_view text) {
    auto decoded = barertc::auth::base64url_decode(text);
    if (!decoded) throw std::runtime_error("bad base64url");
    return std::move(*decoded);
}

namespace {

std::string hmac(std::string_view alg, std::string_view key, std::string_view data) {
    const EVP_MD* md = alg == "HS512" ? EVP_sha512() : alg == "HS384" ? EVP_sha384() : EVP_sha256();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::vector<std::string_view> split_token(std::string_view token) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const auto dot = token.find('.', start);
        parts.push_back(token.substr(start, dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return parts;
}

}  // namespace

std::string make_jwt(const bj::object& claims, std::string_view secret, std::string_view alg) {
    bj::object header{{"alg", alg}, {"typ", "JWT"}};
    const std::string signing_input =
        base64url_encode(bj::serialize(header)) + "." + base64url_encode(bj::serialize(claims));
    return signing_input + "." + base64url_encode(hmac(alg, secret, signing_input));
}

std::string user_jwt(std::string_view sub, std::string_view secret) {
    const auto now = unix_now();
    return make_jwt({{"sub", sub}, {"iat", now - 10}, {"nbf", now - 10}, {"exp", now + 300}},
                    secret);
}

bj::object jwt_header(std::string_view token) {
    return parse_object(base64url_decode(split_token(token).at(0)));
}

bj::object jwt_payload(std::string_view token) {
    return parse_object(base64url_decode(split_token(token).at(1)));
}

bool jwt_signature_ok(std::string_view token, std::string_view secret) {
    const auto parts = split_token(token);
    if (parts.size() != 3) return false;
    const std::string alg = str(jwt_header(token), "alg");
    const std::string input = std::string(parts[0]) + "." + std::string(parts[1]);
    return base64url_encode(hmac(alg, secret, input)) == parts[2];
}

// ------------------------------------------------------------------------------------------
// WebSocket client

struct WsClient::Impl {
    struct Frame {
        bool text = true;
        std::string data;
    };

    asio::io_context ioc;
    websocket::stream<beast::tcp_stream> ws{ioc};
    beast::flat_buffer buffer;
    std::deque<Frame> frames;
    bool reading = false;
    bool ended = false;
    std::optional<unsigned> close_code;
    boost::system::error_code end_error;

    void start_read() {
        if (reading || ended) return;
        reading = true;
        ws.async_read(buffer, [this](boost::system::error_code ec, std::size_t) {
            reading = false;
            if (ec) {
                ended = true;
                end_error = ec;
                close_code = ec == websocket::error::closed ? ws.reason().code : 0;
                return;
            }
            frames.push_back({ws.got_text(), beast::buffers_to_string(buffer.data())});
            if (trace()) std::cerr << "[ws " << this << "] <- " << frames.back().data << "\n";
            buffer.consume(buffer.size());
        });
    }

    std::optional<Frame> next(Clock::time_point deadline) {
        while (frames.empty() && !ended) {
            start_read();
            const auto now = Clock::now();
            if (now >= deadline) break;
            ioc.restart();
            ioc.run_one_for(deadline - now);
        }
        if (frames.empty()) return std::nullopt;
        Frame f = std::move(frames.front());
        frames.pop_front();
        return f;
    }

    void write(std::string_view data, bool text) {
        if (ended) throw std::runtime_error("write on a closed WebSocket");
        if (trace()) std::cerr << "[ws " << this << "] -> " << data << "\n";
        start_read();  // keep reading while the write runs, so close frames are seen
        bool done = false;
        boost::system::error_code ec;
        ws.text(text);
        ws.async_write(asio::buffer(data.data(), data.size()),
                       [&](boost::system::error_code e, std::size_t) {
                           ec = e;
                           done = true;
                       });
        if (!run_until(ioc, done, Clock::now() + 5s)) {
            throw std::runtime_error("WebSocket write timed out");
        }
        if (ec) throw std::runtime_error("WebSocket write: " + ec.message());
    }

    void write_fragments(const std::vector<std::string>& parts) {
        if (ended) throw std::runtime_error("write on a closed WebSocket");
        start_read();
        ws.text(true);
        for (std::size_t i = 0; i < parts.size(); ++i) {
            bool done = false;
            boost::system::error_code ec;
            ws.async_write_some(i + 1 == parts.size(), asio::buffer(parts[i]),
                                [&](boost::system::error_code e, std::size_t) {
                                    ec = e;
                                    done = true;
                                });
            if (!run_until(ioc, done, Clock::now() + 5s)) {
                throw std::runtime_error("WebSocket write timed out");
            }
            if (ec) return;  // the server may close before the last fragment
        }
    }

    // Connects and performs the handshake; on refusal fills `res`.
    boost::system::error_code handshake(std::uint16_t port, const Headers& headers,
                                        websocket::response_type& res) {
        boost::system::error_code ec;
        bool done = false;
        auto& tcp_layer = beast::get_lowest_layer(ws);
        tcp_layer.expires_after(5s);
        tcp_layer.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                                [&](boost::system::error_code e) {
                                    ec = e;
                                    done = true;
                                });
        if (!run_until(ioc, done, Clock::now() + 6s)) return asio::error::timed_out;
        if (ec) return ec;
        tcp_layer.expires_never();
        ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "barertc-e2e");
            for (const auto& [k, v] : headers) req.set(k, v);
        }));
        ws.read_message_max(256 * 1024 * 1024);
        done = false;
        ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), "/ws",
                           [&](boost::system::error_code e) {
                               ec = e;
                               done = true;
                           });
        if (!run_until(ioc, done, Clock::now() + 5s)) return asio::error::timed_out;
        return ec;
    }

    void shutdown() {
        boost::system::error_code ignored;
        beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws).socket().close(ignored);
        ioc.restart();
        ioc.poll();
    }
};

WsClient::WsClient(std::uint16_t port, const Headers& headers) : impl_(std::make_unique<Impl>()) {
    websocket::response_type res;
    const auto ec = impl_->handshake(port, headers, res);
    if (ec) {
        throw std::runtime_error("WebSocket handshake failed: " + ec.message() + " (HTTP " +
                                 std::to_string(res.result_int()) + ")");
    }
}

WsClient::~WsClient() {
    if (impl_) impl_->shutdown();
}

std::optional<Refusal> WsClient::try_refused(std::uint16_t port, const Headers& headers) {
    Impl impl;
    websocket::response_type res;
    const auto ec = impl.handshake(port, headers, res);
    std::optional<Refusal> out;
    if (ec) out = Refusal{res.result_int(), res.body()};
    impl.shutdown();
    return out;
}

void WsClient::send_text(std::string_view text) {
    impl_->write(text, true);
}

void WsClient::send_binary(std::string_view data) {
    impl_->write(data, false);
}

void WsClient::send_ping(std::string_view payload) {
    if (impl_->ended) throw std::runtime_error("ping on a closed WebSocket");
    bool done = false;
    boost::system::error_code ec;
    impl_->ws.async_ping(websocket::ping_data(payload.data(), payload.size()),
                         [&](boost::system::error_code e) {
                             ec = e;
                             done = true;
                         });
    if (!run_until(impl_->ioc, done, Clock::now() + 5s)) {
        throw std::runtime_error("WebSocket ping timed out");
    }
    if (ec) throw std::runtime_error("WebSocket ping failed: " + ec.message());
}

void WsClient::send(const bj::object& message) {
    send_text(bj::serialize(message));
}

void WsClient::send_fragments(const std::vector<std::string>& parts) {
    impl_->write_fragments(parts);
}

std::optional<bj::object> WsClient::recv(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        auto frame = impl_->next(deadline);
        if (!frame) return std::nullopt;
        if (!frame->text) {
            ADD_FAILURE() << "the server sent a binary frame";
            continue;
        }
        boost::system::error_code ec;
        auto v = bj::parse(frame->data, ec);
        if (ec || !v.is_object()) {
            ADD_FAILURE() << "the server sent a frame that is not a JSON object: " << frame->data;
            continue;
        }
        return std::move(v.as_object());
    }
}

std::optional<std::string> WsClient::recv_raw(std::chrono::milliseconds timeout) {
    auto frame = impl_->next(Clock::now() + timeout);
    if (!frame) return std::nullopt;
    EXPECT_TRUE(frame->text) << "the server sent a binary frame";
    return std::move(frame->data);
}

std::optional<bj::object> WsClient::recv_until(const std::function<bool(const bj::object&)>& match,
                                               std::chrono::milliseconds timeout,
                                               std::vector<bj::object>* skipped) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= 0ms) return std::nullopt;
        auto m = recv(left);
        if (!m) return std::nullopt;
        if (match(*m)) return m;
        if (skipped) skipped->push_back(std::move(*m));
    }
}

std::optional<bj::object> WsClient::recv_action(std::string_view action,
                                                std::chrono::milliseconds timeout) {
    return recv_until([&](const bj::object& m) { return is_action(m, action); }, timeout);
}

std::vector<bj::object> WsClient::sync() {
    const std::string action = "e2e-sync-" + std::to_string(++sync_counter_);
    send(bj::object{{"action", action}});
    const bj::object reply = chat_server("Unsupported message type: " + action);
    std::vector<bj::object> before;
    auto got = recv_until([&](const bj::object& m) { return m == reply; }, 5s, &before);
    if (!got) ADD_FAILURE() << "no reply to the barrier " << action << "; got " << dump(before);
    return before;
}

std::vector<bj::object> WsClient::login(std::string_view username, std::string_view jwt) {
    bj::object m{{"action", "login"}, {"username", username}};
    if (!jwt.empty()) m["jwt"] = jwt;
    send(m);
    auto got = sync();
    for (const auto& x : got) {
        if (is_action(x, "me")) username_ = str(x, "username");
    }
    return got;
}

void WsClient::say(std::string_view channel, std::string_view text) {
    send({{"action", "message"}, {"channel", channel}, {"message", text}});
}

std::optional<unsigned> WsClient::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!impl_->ended) {
        if (!impl_->next(deadline) && Clock::now() >= deadline) break;
    }
    if (!impl_->ended) return std::nullopt;
    return impl_->close_code.value_or(0);
}

bool WsClient::ended() const {
    return impl_->ended;
}

std::string WsClient::end_reason() const {
    if (!impl_->ended) return "still open";
    return impl_->end_error.message() + " (close code " +
           std::to_string(impl_->close_code.value_or(0)) + ")";
}

void WsClient::close() {
    if (impl_->ended) return;
    bool done = false;
    impl_->ws.async_close(websocket::close_code::normal,
                          [&](boost::system::error_code) { done = true; });
    run_until(impl_->ioc, done, Clock::now() + 2s);
    impl_->shutdown();
}

// ------------------------------------------------------------------------------------------
// Message helpers

bj::object parse_object(std::string_view text) {
    auto v = bj::parse(text);
    if (!v.is_object()) throw std::runtime_error("not a JSON object: " + std::string(text));
    return std::move(v.as_object());
}

bj::object chat_server(std::string_view text, std::string_view channel) {
    bj::object m{{"action", "error"}, {"username", "ChatServer"}, {"message", text}};
    if (!channel.empty()) m["channel"] = channel;
    return m;
}

bool is_action(const bj::object& m, std::string_view action) {
    const auto* a = m.if_contains("action");
    return a && a->is_string() && a->get_string() == action;
}

std::string str(const bj::object& m, std::string_view key) {
    const auto* v = m.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t num(const bj::object& m, std::string_view key) {
    const auto* v = m.if_contains(key);
    if (!v) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    return 0;
}

std::vector<bj::object> with_action(const std::vector<bj::object>& list, std::string_view action) {
    std::vector<bj::object> out;
    for (const auto& m : list) {
        if (is_action(m, action)) out.push_back(m);
    }
    return out;
}

std::string dump(const std::vector<bj::object>& list) {
    std::string out = "[";
    for (const auto& m : list) {
        if (out.size() > 1) out += ",\n ";
        out += bj::serialize(m);
    }
    return out + "]";
}

}  // namespace e2e

namespace boost::json {
void PrintTo(const object& o, std::ostream* os) {
    *os << serialize(o);
}
}  // namespace boost::json
