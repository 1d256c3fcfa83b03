// Webhook calls against a real HTTP receiver on 127.0.0.1: exact request, status handling,
// refused connections, timeouts, and that post() never waits for the website.

#include "hooks/webhook_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#ifdef BARERTC_WEBHOOK_HTTPS
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#endif

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using barertc::hooks::WebhookClient;
using barertc::hooks::WebhookResult;
using namespace std::chrono_literals;

// A tiny HTTP server on 127.0.0.1 with an ephemeral port, recording what it receives.
class Receiver {
  public:
    struct Request {
        std::string method, target, host, content_type, body;
    };
    enum class Mode { Answer, Silent };

    Receiver(unsigned status, std::string body, Mode mode = Mode::Answer,
             std::string tls_cert_pem = {}, std::string tls_key_pem = {})
        : status_(status),
          body_(std::move(body)),
          mode_(mode),
          acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
#ifdef BARERTC_WEBHOOK_HTTPS
        if (!tls_cert_pem.empty()) {
            tls_.emplace(asio::ssl::context::tls_server);
            tls_->use_certificate_chain(asio::buffer(tls_cert_pem));
            tls_->use_private_key(asio::buffer(tls_key_pem), asio::ssl::context::pem);
        }
#else
        (void)tls_cert_pem;
        (void)tls_key_pem;
#endif
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~Receiver() {
        ioc_.stop();
        thread_.join();
    }

    unsigned short port() const {
        return acceptor_.local_endpoint().port();
    }
    std::string url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port()) + path;
    }

    // The first request received, waiting up to `wait` for it.
    std::optional<Request> first_request(std::chrono::milliseconds wait = 5s) {
        std::unique_lock lock(mutex_);
        if (!arrived_.wait_for(lock, wait, [this] { return !requests_.empty(); })) return {};
        return requests_.front();
    }
    std::size_t request_count() {
        std::lock_guard lock(mutex_);
        return requests_.size();
    }

  private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
#ifdef BARERTC_WEBHOOK_HTTPS
            if (tls_) {
                asio::co_spawn(ioc_, serve_tls(std::move(socket)), asio::detached);
                continue;
            }
#endif
            asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
        }
    }

#ifdef BARERTC_WEBHOOK_HTTPS
    asio::awaitable<void> serve_tls(tcp::socket socket) {
        beast::ssl_stream<tcp::socket> stream(std::move(socket), *tls_);
        co_await stream.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
        co_await serve_stream(stream);
    }
#endif

    asio::awaitable<void> serve(tcp::socket socket) {
        co_await serve_stream(socket);
    }

    template <typename Stream>
    asio::awaitable<void> serve_stream(Stream& stream) {
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        co_await http::async_read(stream, buffer, req, asio::use_awaitable);
        {
            std::lock_guard lock(mutex_);
            requests_.push_back({std::string(req.method_string()), std::string(req.target()),
                                 std::string(req[http::field::host]),
                                 std::string(req[http::field::content_type]), req.body()});
        }
        arrived_.notify_all();
        if (mode_ == Mode::Silent) {
            // Keep the connection open and never answer.
            asio::steady_timer forever(ioc_, std::chrono::hours(1));
            co_await forever.async_wait(asio::use_awaitable);
            co_return;
        }
        http::response<http::string_body> res{static_cast<http::status>(status_), 11};
        res.set(http::field::content_type, "application/json");
        res.body() = body_;
        res.keep_alive(false);
        res.prepare_payload();
        co_await http::async_write(stream, res, asio::use_awaitable);
    }

    unsigned status_;
    std::string body_;
    Mode mode_;
    asio::io_context ioc_;
    tcp::acceptor acceptor_;
#ifdef BARERTC_WEBHOOK_HTTPS
    std::optional<asio::ssl::context> tls_;
#endif
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<Request> requests_;
};

// Collects one result and the thread it was delivered on.
struct Outcome {
    std::promise<WebhookResult> promise;
    std::future<WebhookResult> future = promise.get_future();
    std::atomic<int> calls{0};
    std::atomic<bool> on_caller_thread{false};
    std::thread::id caller = std::this_thread::get_id();

    std::function<void(WebhookResult)> callback() {
        return [this](WebhookResult r) {
            on_caller_thread = std::this_thread::get_id() == caller;
            if (calls.fetch_add(1) == 0) promise.set_value(std::move(r));
        };
    }
    WebhookResult wait(std::chrono::seconds max = 10s) {
        if (future.wait_for(max) != std::future_status::ready) {
            ADD_FAILURE() << "no webhook result within " << max.count() << "s";
            return {};
        }
        return future.get();
    }
};

// A port with nothing listening: bind one, note it, close it.
unsigned short closed_port() {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

TEST(WebhookClient, PostsTheExactBodyAndContentType) {
    Receiver receiver(200, R"({"StatusCode": 200, "Data": {"OK": true}})");
    WebhookClient client;
    Outcome out;
    const std::string body = R"({"Action": "profile", "APIKey": "k", "Username": "soandso"})";
    client.post(receiver.url("/hooks/barertc?site=1"), body, 5s, out.callback());

    const auto result = out.wait();
    EXPECT_TRUE(result.ok);
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.error, "");
    EXPECT_EQ(result.body, R"({"StatusCode": 200, "Data": {"OK": true}})");
    EXPECT_FALSE(out.on_caller_thread);

    const auto req = receiver.first_request();
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(req->method, "POST");
    EXPECT_EQ(req->target, "/hooks/barertc?site=1");
    EXPECT_EQ(req->host, "127.0.0.1:" + std::to_string(receiver.port()));
    EXPECT_EQ(req->content_type, "application/json");
    EXPECT_EQ(req->body, body);
    EXPECT_TRUE(client.flush(1s));
    EXPECT_EQ(out.calls, 1);
}

TEST(WebhookClient, UrlWithoutPathPostsToRoot) {
    Receiver receiver(200, "{}");
    WebhookClient client;
    Outcome out;
    client.post("http://127.0.0.1:" + std::to_string(receiver.port()), "{}", 5s, out.callback());
    EXPECT_TRUE(out.wait().ok);
    const auto req = receiver.first_request();
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(req->target, "/");
}

TEST(WebhookClient, HostNamesAreResolved) {
    Receiver receiver(200, "{}");
    WebhookClient client;
    Outcome out;
    // localhost may resolve to ::1 first, where nothing listens: the next address is tried.
    client.post("http://localhost:" + std::to_string(receiver.port()) + "/hook", "{}", 5s,
                out.callback());
    const auto result = out.wait();
    EXPECT_TRUE(result.ok) << result.error;
}

TEST(WebhookClient, NonOkStatusIsAnErrorButKeepsTheBody) {
    Receiver receiver(500, R"({"error": "boom"})");
    WebhookClient client;
    Outcome out;
    client.post(receiver.url(), "{}", 5s, out.callback());
    const auto result = out.wait();
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.status, 500);
    EXPECT_EQ(result.error, "unexpected error from webhook URL");
    EXPECT_EQ(result.body, R"({"error": "boom"})");
}

TEST(WebhookClient, OtherSuccessStatusesAreErrorsToo) {
    Receiver receiver(201, "created");
    WebhookClient client;
    Outcome out;
    client.post(receiver.url(), "{}", 5s, out.callback());
    const auto result = out.wait();
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.status, 201);
    EXPECT_EQ(result.error, WebhookClient::kUnexpectedStatus);
}

TEST(WebhookClient, NothingListeningFailsWithoutWaitingForTheTimeout) {
    WebhookClient client;
    Outcome out;
    const auto port = closed_port();
    const auto start = std::chrono::steady_clock::now();
    client.post("http://127.0.0.1:" + std::to_string(port) + "/hook", "{}", 30s, out.callback());
    const auto result = out.wait(10s);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.status, 0);
    EXPECT_NE(result.error.find("connecting to 127.0.0.1"), std::string::npos) << result.error;
}

TEST(WebhookClient, SilentReceiverTimesOutWithoutBlockingTheCaller) {
    Receiver receiver(200, "{}", Receiver::Mode::Silent);
    WebhookClient client;
    Outcome out;
    const auto start = std::chrono::steady_clock::now();
    client.post(receiver.url(), "{}", 1s, out.callback());
    // post() returned while the receiver has not answered and the timeout has not passed.
    EXPECT_EQ(out.calls, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);

    const auto result = out.wait(10s);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error, "webhook timed out after 1s");
    EXPECT_GE(elapsed, 900ms);
    EXPECT_LT(elapsed, 5s);
    ASSERT_TRUE(receiver.first_request().has_value());
    EXPECT_EQ(out.calls, 1);
}

TEST(WebhookClient, FlushWaitsForCallsInFlight) {
    Receiver receiver(200, "{}", Receiver::Mode::Silent);
    WebhookClient client;
    Outcome out;
    client.post(receiver.url(), "{}", 1s, out.callback());
    EXPECT_FALSE(client.flush(10ms));
    EXPECT_TRUE(client.flush(10s));
    EXPECT_EQ(out.calls, 1);
    EXPECT_TRUE(client.flush(0ms));
}

TEST(WebhookClient, DestructionAbortsCallsInFlightAndReportsThem) {
    Receiver receiver(200, "{}", Receiver::Mode::Silent);
    Outcome out;
    const auto start = std::chrono::steady_clock::now();
    {
        WebhookClient client;
        client.post(receiver.url(), "{}", 60s, out.callback());
        ASSERT_TRUE(receiver.first_request().has_value());
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
    EXPECT_EQ(out.calls, 1);
    const auto result = out.wait(1s);
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.error.find("shutting down"), std::string::npos) << result.error;
}

TEST(WebhookClient, BadUrlsAreReportedOnTheClientThread) {
    WebhookClient client;
    Outcome bad, scheme, no_host;
    client.post("not a url", "{}", 5s, bad.callback());
    client.post("ftp://example.com/hook", "{}", 5s, scheme.callback());
    client.post("http:///hook", "{}", 5s, no_host.callback());

    const auto r1 = bad.wait();
    EXPECT_FALSE(r1.ok);
    EXPECT_NE(r1.error.find("invalid webhook URL"), std::string::npos) << r1.error;
    EXPECT_FALSE(bad.on_caller_thread);
    const auto r2 = scheme.wait();
    EXPECT_EQ(r2.error, "unsupported webhook URL scheme: ftp");
    const auto r3 = no_host.wait();
    EXPECT_EQ(r3.error, "webhook URL has no host");
}

TEST(WebhookClient, ManyCallsEachCompleteOnce) {
    Receiver receiver(200, "{}");
    WebhookClient client;
    std::atomic<int> ok{0};
    std::atomic<int> calls{0};
    for (int i = 0; i < 25; ++i) {
        client.post(receiver.url(), "{\"n\":" + std::to_string(i) + "}", 5s, [&](WebhookResult r) {
            calls++;
            if (r.ok) ok++;
        });
    }
    EXPECT_TRUE(client.flush(20s));
    EXPECT_EQ(calls, 25);
    EXPECT_EQ(ok, 25);
    EXPECT_EQ(receiver.request_count(), 25u);
}

TEST(WebhookClient, AThrowingCallbackDoesNotStopTheClient) {
    Receiver receiver(200, "{}");
    WebhookClient client;
    client.post(receiver.url(), "{}", 5s, [](WebhookResult) { throw std::runtime_error("x"); });
    EXPECT_TRUE(client.flush(10s));
    Outcome out;
    client.post(receiver.url(), "{}", 5s, out.callback());
    EXPECT_TRUE(out.wait().ok);
}

#ifndef BARERTC_WEBHOOK_HTTPS

TEST(WebhookClient, HttpsIsReportedAsUnsupported) {
    EXPECT_FALSE(WebhookClient::https_supported());
    WebhookClient client;
    Outcome out;
    client.post("https://127.0.0.1:1/hook", "{}", 5s, out.callback());
    EXPECT_EQ(out.wait().error, "https webhooks are not supported yet");
}

#else

// A self-signed certificate for the names in `san`, made fresh for the test.
struct TestCert {
    std::string cert_pem, key_pem;
};

TestCert make_cert(const char* san) {
    TestCert out;
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(x, key, EVP_sha256());

    const auto to_string = [](BIO* bio) {
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        std::string s(data, static_cast<std::size_t>(n));
        BIO_free(bio);
        return s;
    };
    BIO* cert_bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cert_bio, x);
    out.cert_pem = to_string(cert_bio);
    BIO* key_bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    out.key_pem = to_string(key_bio);
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}

class WebhookClientTls : public ::testing::Test {
  protected:
    void SetUp() override { use_cert("DNS:localhost,IP:127.0.0.1"); }
    void TearDown() override { std::filesystem::remove(ca_file_); }

    // Makes the receiver's certificate and trusts it through the client's extra CA file.
    void use_cert(const char* san) {
        cert_ = make_cert(san);
        ca_file_ = std::filesystem::temp_directory_path() /
                   ("barertc_webhook_ca_" + std::to_string(::getpid()) + ".pem");
        std::ofstream(ca_file_) << cert_.cert_pem;
    }

    TestCert cert_;
    std::filesystem::path ca_file_;
};

TEST_F(WebhookClientTls, TrustedCertificateWorks) {
    EXPECT_TRUE(WebhookClient::https_supported());
    Receiver receiver(200, R"({"ok":1})", Receiver::Mode::Answer, cert_.cert_pem, cert_.key_pem);
    WebhookClient client(ca_file_.string());
    for (const std::string host : {"localhost", "127.0.0.1"}) {
        Outcome out;
        client.post("https://" + host + ":" + std::to_string(receiver.port()) + "/hook",
                    R"({"a":1})", 5s, out.callback());
        const auto result = out.wait();
        EXPECT_TRUE(result.ok) << host << ": " << result.error;
        EXPECT_EQ(result.body, R"({"ok":1})");
    }
    const auto req = receiver.first_request();
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(req->body, R"({"a":1})");
    EXPECT_EQ(req->content_type, "application/json");
}

TEST_F(WebhookClientTls, UntrustedCertificateIsRefused) {
    Receiver receiver(200, "{}", Receiver::Mode::Answer, cert_.cert_pem, cert_.key_pem);
    WebhookClient client;  // system store only
    Outcome out;
    client.post("https://127.0.0.1:" + std::to_string(receiver.port()) + "/hook", "{}", 5s,
                out.callback());
    const auto result = out.wait();
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.error.find("TLS handshake"), std::string::npos) << result.error;
    EXPECT_NE(result.error.find("certificate verify failed"), std::string::npos) << result.error;
    EXPECT_EQ(receiver.request_count(), 0u);
}

TEST_F(WebhookClientTls, CertificateForAnotherNameIsRefused) {
    use_cert("DNS:example.invalid");
    Receiver receiver(200, "{}", Receiver::Mode::Answer, cert_.cert_pem, cert_.key_pem);
    WebhookClient client(ca_file_.string());  // trusted, but not issued for 127.0.0.1
    Outcome out;
    client.post("https://127.0.0.1:" + std::to_string(receiver.port()) + "/hook", "{}", 5s,
                out.callback());
    const auto result = out.wait();
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.error.find("TLS handshake"), std::string::npos) << result.error;
    EXPECT_NE(result.error.find("certificate verify failed"), std::string::npos) << result.error;
    EXPECT_EQ(receiver.request_count(), 0u);
}

#endif

}  // namespace
