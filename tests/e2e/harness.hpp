#pragma once
// End-to-end test harness: runs the real `barertc` binary in a fresh temporary directory with a
// settings.toml written by the test, and talks to it over real sockets (HTTP and WebSocket with
// Boost.Beast). Nothing here links against the server's own code, so the tests see exactly what
// a browser or a host website would see.

#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace e2e {

namespace bj = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kApiKey = "e2e-admin-key-0123456789";
inline constexpr std::string_view kSecret = "e2e-jwt-secret-do-not-use-in-production";
inline constexpr auto kRecvTimeout = 3s;

// The default welcome texts of config.md §3.4, as written into every test's settings.toml.
inline constexpr std::string_view kWelcomeLobby1 = "Welcome to the chat server!";
inline constexpr std::string_view kWelcomeLobby2Start = "Please follow the basic rules:";
inline constexpr std::string_view kWelcomeOfftopic = "Welcome to the Off Topic channel!";
inline constexpr std::string_view kWelcomeVip = "This channel is only for operators and VIPs.";

// ChatServer texts of protocol.md §21.
inline constexpr std::string_view kAuthExpired =
    "Your authentication has expired. Please go back and launch the chat room again.";
inline constexpr std::string_view kAuthRequired =
    "Server side authentication is required. Please go back and launch the chat room from "
    "your logged-in account.";
inline constexpr std::string_view kSignedOutElsewhere =
    "You have been signed out of chat because you logged in from another location.";
inline constexpr std::string_view kMustLogIn = "You must log in first.";

// What goes into settings.toml (config.md). Everything else is the documented default.
struct ServerConfig {
    bool jwt_enabled = false;
    bool jwt_strict = true;
    std::string secret_key = std::string(kSecret);
    std::string landing_page_url;
    std::int64_t websocket_read_limit = 41943040;
    std::vector<std::string> cors_hosts{"https://www.example.com"};
    std::string extra_toml;  // appended verbatim at the end of the file
    // Exact replacements applied to the generated file (each `from` must occur once).
    std::vector<std::pair<std::string, std::string>> replace_toml;
    // [DirectMessageHistory] Enabled (the database is "database.sqlite" in the working folder).
    bool dm_history = false;
    // When not empty, the [[WebhookURLs]] entry of that name is enabled with this URL.
    std::string report_webhook_url;
    std::string profile_webhook_url;
    // When not empty, the server runs in this existing folder (settings.toml is rewritten
    // there) instead of a fresh temporary one, and the folder is left in place afterwards: a
    // second Server on the same folder sees the first one's files (e.g. its DM history).
    std::filesystem::path work_dir;
};

// A complete Version 17 settings.toml for `config`.
std::string settings_toml(const ServerConfig& config);

// One server process, started in a fresh temporary directory and stopped (SIGTERM, then
// SIGKILL after a timeout) when destroyed. Its stdout and stderr are collected; the log is
// printed when the current test has failed.
class Server {
  public:
    explicit Server(const ServerConfig& config = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    std::uint16_t port() const { return port_; }
    const std::filesystem::path& dir() const { return dir_; }
    // Unix seconds just before the process was started and just after it was listening: the
    // server's own start time lies in between.
    std::int64_t started_unix_min() const { return started_unix_min_; }
    std::int64_t started_unix_max() const { return started_unix_max_; }
    Clock::time_point started() const { return started_; }
    std::string log() const;

    // Sends SIGTERM and waits up to `grace` before SIGKILL. Returns the exit code, or -N when
    // the process died from signal N. Idempotent.
    int stop(std::chrono::milliseconds grace = 10s);
    bool running() const { return pid_ > 0; }
    // The server's process id (-1 once reaped) and its resident set size in KiB from
    // /proc/<pid>/status (VmRSS; 0 when unavailable).
    int pid() const { return pid_; }
    std::int64_t rss_kib() const;
    // Sends `sig` to the process without waiting (e.g. SIGTERM, to watch the clients while the
    // server shuts down). No-op once the process has been reaped.
    void send_signal(int sig);
    // Waits up to `timeout` for the process to exit on its own (no signal is sent). Returns the
    // exit code as stop() does, or nullopt if it is still running.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  private:
    void drain();

    std::filesystem::path dir_;
    int pid_ = -1;
    int out_fd_ = -1;
    int exit_status_ = 0;
    std::uint16_t port_ = 0;
    std::int64_t started_unix_min_ = 0;
    std::int64_t started_unix_max_ = 0;
    Clock::time_point started_;
    mutable std::mutex log_mutex_;
    std::string log_;
    std::thread drainer_;
    std::atomic<bool> draining_stop_{false};
    bool keep_dir_ = false;  // ServerConfig::work_dir was given
    void reaped(int status);
};

// ------------------------------------------------------------------------------------------
// HTTP

struct HttpResponse {
    unsigned status = 0;
    std::string body;
    Headers headers;  // in arrival order, names as sent
    // The value of the first header named `name` (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
};

// One request on a fresh connection. Throws std::runtime_error on connection errors or after
// `timeout`.
HttpResponse http_request(std::uint16_t port, boost::beast::http::verb method,
                          std::string_view target, std::string_view body = {},
                          const Headers& headers = {}, std::chrono::milliseconds timeout = 5s);
HttpResponse http_get(std::uint16_t port, std::string_view target, const Headers& headers = {});
// POST with `Content-Type: application/json`.
HttpResponse post_json(std::uint16_t port, std::string_view target, std::string_view body);

// Writes `bytes` on a plain TCP connection and returns everything read back until the peer
// closes the connection or `timeout` passes. Write errors are ignored (the server may answer
// and close before it has read everything).
std::string raw_exchange(std::uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds timeout = 3s);

// The exact body of an API error (api.md §2): pretty-printed, two spaces, trailing newline.
std::string api_error_body(std::string_view error);

// ------------------------------------------------------------------------------------------
// Webhook receiver: a small HTTP server on 127.0.0.1 (port chosen by the system) standing in
// for the host website of features.md §8. It records every request and answers each one with
// the configured status and body after the configured delay (requests are served
// concurrently, so a delayed answer does not hold up others).

struct ReceivedRequest {
    std::string method;
    std::string target;
    Headers headers;  // in arrival order, names as sent
    std::string body;
    std::optional<std::string> header(std::string_view name) const;
};

class WebhookReceiver {
  public:
    WebhookReceiver();
    ~WebhookReceiver();
    WebhookReceiver(const WebhookReceiver&) = delete;
    WebhookReceiver& operator=(const WebhookReceiver&) = delete;

    std::uint16_t port() const { return port_; }
    // "http://127.0.0.1:<port><path>"
    std::string url(std::string_view path) const;
    // The answer for the requests that arrive from now on (default: 200, empty body, no delay).
    void respond_with(unsigned status, std::string body,
                      std::chrono::milliseconds delay = std::chrono::milliseconds(0));
    // Every request received so far (complete ones only).
    std::vector<ReceivedRequest> requests() const;
    // Waits until at least `count` requests have arrived; returns them all (fewer on timeout).
    std::vector<ReceivedRequest> wait_for(std::size_t count,
                                          std::chrono::milliseconds timeout = 5s) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::uint16_t port_ = 0;
};

// ------------------------------------------------------------------------------------------
// JWT (HS256), implemented here independently of the server.

std::string base64url_encode(std::string_view data);
std::string base64url_decode(std::string_view text);
std::string make_jwt(const bj::object& claims, std::string_view secret = kSecret,
                     std::string_view alg = "HS256");
// Claims with `sub` and a validity window around now.
std::string user_jwt(std::string_view sub, std::string_view secret = kSecret);
bj::object jwt_header(std::string_view token);
bj::object jwt_payload(std::string_view token);
bool jwt_signature_ok(std::string_view token, std::string_view secret = kSecret);
std::int64_t unix_now();

// ------------------------------------------------------------------------------------------
// WebSocket client

// The result of a WebSocket handshake that the server refused.
struct Refusal {
    unsigned status = 0;
    std::string body;
};

class WsClient {
  public:
    // Connects to ws://127.0.0.1:<port>/ws, adding `headers` to the upgrade request. Throws
    // std::runtime_error if the handshake fails.
    explicit WsClient(std::uint16_t port, const Headers& headers = {});
    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    // Tries a handshake that is expected to be refused; returns the HTTP answer, or nullopt if
    // the upgrade succeeded.
    static std::optional<Refusal> try_refused(std::uint16_t port, const Headers& headers);

    void send_text(std::string_view text);
    void send_binary(std::string_view data);
    // A WebSocket ping control frame (the server's library answers with a pong).
    void send_ping(std::string_view payload = {});
    void send(const bj::object& message);
    // One text message sent as several frames (a first frame and continuations).
    void send_fragments(const std::vector<std::string>& parts);

    // The next JSON object from the server, or nullopt after `timeout` or when the connection
    // has ended.
    std::optional<bj::object> recv(std::chrono::milliseconds timeout = kRecvTimeout);
    // The next text frame exactly as sent by the server.
    std::optional<std::string> recv_raw(std::chrono::milliseconds timeout = kRecvTimeout);
    // Reads until a message matches; the ones read before it are appended to `skipped`.
    std::optional<bj::object> recv_until(const std::function<bool(const bj::object&)>& match,
                                         std::chrono::milliseconds timeout = kRecvTimeout,
                                         std::vector<bj::object>* skipped = nullptr);
    std::optional<bj::object> recv_action(std::string_view action,
                                          std::chrono::milliseconds timeout = kRecvTimeout);

    // Barrier: sends an unknown action with a unique name and reads until the server's
    // "Unsupported message type" reply to it. Returns every message received before that
    // reply; since the server handles one connection's messages in order, anything caused by
    // earlier actions has been queued by then. Fails the test if the reply never comes.
    std::vector<bj::object> sync();

    // Sends `login` and returns everything up to the barrier (me, echo, welcomes, ...).
    std::vector<bj::object> login(std::string_view username, std::string_view jwt = {});
    // The username of the last `me` received by login(), empty if none.
    const std::string& username() const { return username_; }

    // Posts a chat message (public channel or "@name").
    void say(std::string_view channel, std::string_view text);

    // Waits for the connection to end; returns the close code sent by the server, 0 for an end
    // without a close frame, nullopt if still open after `timeout`.
    std::optional<unsigned> wait_closed(std::chrono::milliseconds timeout = kRecvTimeout);
    bool ended() const;
    // Why the connection ended (for failure messages).
    std::string end_reason() const;
    // Client-initiated normal close (1000).
    void close();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string username_;
    unsigned sync_counter_ = 0;
};

// ------------------------------------------------------------------------------------------
// Message helpers

bj::object parse_object(std::string_view text);
// {"action":"error","username":"ChatServer","message":text} (+ channel when non-empty).
bj::object chat_server(std::string_view text, std::string_view channel = {});
bool is_action(const bj::object& m, std::string_view action);
std::string str(const bj::object& m, std::string_view key);
std::int64_t num(const bj::object& m, std::string_view key);
// The messages of `list` whose action is `action`.
std::vector<bj::object> with_action(const std::vector<bj::object>& list, std::string_view action);
std::string dump(const std::vector<bj::object>& list);

}  // namespace e2e

// Readable GoogleTest output for JSON objects (found by argument-dependent lookup).
namespace boost::json {
void PrintTo(const object& o, std::ostream* os);
}  // namespace boost::json
