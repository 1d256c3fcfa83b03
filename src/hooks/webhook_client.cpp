#include "hooks/webhook_client.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url.hpp>

#ifdef BARERTC_WEBHOOK_HTTPS
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#endif

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <utility>

namespace barertc::hooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds kDefaultTimeout{10};
// The profile webhook answers a small JSON document; a runaway body must not fill memory.
constexpr std::uint64_t kMaxResponseBody = 1 << 20;

struct Target {
    bool tls = false;
    std::string host;           // for name lookup and certificate checks: no brackets
    bool host_is_name = false;  // a DNS name (SNI is only sent for names, not addresses)
    std::string port;
    std::string host_header;  // as written in the URL, with the port if one was given
    std::string path;         // origin-form request target
};

// Returns the error text, empty on success.
std::string parse_target(std::string_view url, Target& out) {
    const auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return "invalid webhook URL: " + parsed.error().message();
    const auto& u = *parsed;
    switch (u.scheme_id()) {
        case boost::urls::scheme::http:
            out.tls = false;
            break;
        case boost::urls::scheme::https:
            out.tls = true;
            break;
        default:
            return "unsupported webhook URL scheme: " + std::string(u.scheme());
    }
    out.host = u.host_address();
    if (out.host.empty()) return "webhook URL has no host";
    out.host_is_name = u.host_type() == boost::urls::host_type::name;
    out.port = u.has_port() && !u.port().empty() ? std::string(u.port())
                                                 : std::string(out.tls ? "443" : "80");
    out.host_header =
        u.has_port() ? std::string(u.encoded_host_and_port()) : std::string(u.encoded_host());
    out.path = u.encoded_target();
    if (out.path.empty() || out.path.front() != '/') out.path.insert(0, "/");
    return {};
}

}  // namespace

struct WebhookClient::Impl {
    class Call;

    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
#ifdef BARERTC_WEBHOOK_HTTPS
    asio::ssl::context tls{asio::ssl::context::tls_client};
#endif
    std::thread thread;

    // Only touched on the I/O thread.
    bool stopping = false;
    std::unordered_set<Call*> active;

    std::mutex mutex;
    std::condition_variable idle;
    std::size_t in_flight = 0;

    void call_finished() {
        {
            std::lock_guard lock(mutex);
            --in_flight;
        }
        idle.notify_all();
    }
};

// One webhook call. Lives as long as its coroutine; the deadline timer and the destructor of
// the client reach it only through the I/O thread.
class WebhookClient::Impl::Call : public std::enable_shared_from_this<Call> {
  public:
    Call(Impl& impl, std::string url, std::string body, std::chrono::seconds timeout,
         std::function<void(WebhookResult)> done)
        : impl_(impl),
          url_(std::move(url)),
          body_(std::move(body)),
          timeout_(timeout),
          done_(std::move(done)),
          resolver_(impl.ioc),
          stream_(impl.ioc),
          deadline_(impl.ioc) {}

    static asio::awaitable<void> run(std::shared_ptr<Call> self) {
        if (self->impl_.stopping) {
            self->aborted_ = true;
            self->finish(self->failure("", {}));
            co_return;
        }
        self->impl_.active.insert(self.get());
        WebhookResult result;
        try {
            result = co_await self->attempt();
        } catch (const std::exception& e) {
            result = WebhookResult{};
            result.error = std::string("webhook call failed: ") + e.what();
        }
        self->finish(std::move(result));
    }

    // Makes every pending operation complete at once with an error.
    void abort() {
        aborted_ = true;
        cancel_io();
    }

  private:
    asio::awaitable<WebhookResult> attempt() {
        Target target;
        if (auto e = parse_target(url_, target); !e.empty()) co_return error_result(e);
#ifndef BARERTC_WEBHOOK_HTTPS
        if (target.tls) co_return error_result(kHttpsUnsupported);
#endif

        const auto deadline = std::chrono::steady_clock::now() + timeout_;
        // The resolver has no timeout of its own; this timer covers it and every later step.
        deadline_.expires_at(deadline);
        deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = weak.lock()) {
                self->timed_out_ = true;
                self->cancel_io();
            }
        });

        beast::error_code ec;
        auto token = asio::redirect_error(asio::use_awaitable, ec);
        const auto endpoints = co_await resolver_.async_resolve(target.host, target.port, token);
        if (ec || aborted_ || timed_out_) co_return failure("resolving " + target.host, ec);

        stream_.expires_at(deadline);
        co_await stream_.async_connect(endpoints, token);
        if (ec || aborted_ || timed_out_) {
            co_return failure("connecting to " + target.host + ":" + target.port, ec);
        }

        http::request<http::string_body> req{http::verb::post, target.path, 11};
        req.set(http::field::host, target.host_header);
        req.set(http::field::user_agent, "BareRTC");
        req.set(http::field::content_type, "application/json");
        req.keep_alive(false);
        req.body() = std::move(body_);
        req.prepare_payload();

        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxResponseBody);

        if (target.tls) {
#ifdef BARERTC_WEBHOOK_HTTPS
            tls_.emplace(std::move(stream_), impl_.tls);
            if (target.host_is_name &&
                !SSL_set_tlsext_host_name(tls_->native_handle(), target.host.c_str())) {
                co_return error_result("cannot set the TLS server name for " + target.host);
            }
            tls_->set_verify_mode(asio::ssl::verify_peer);
            tls_->set_verify_callback(asio::ssl::host_name_verification(target.host));
            co_await tls_->async_handshake(asio::ssl::stream_base::client, token);
            if (ec || aborted_ || timed_out_) {
                co_return failure("TLS handshake with " + target.host, ec);
            }
            co_await exchange(*tls_, req, parser, ec);
            // No TLS close_notify: the response is complete by HTTP framing, and the
            // connection is closed either way.
#endif
        } else {
            co_await exchange(stream_, req, parser, ec);
        }
        if (ec || aborted_ || timed_out_) co_return failure(stage_, ec);

        auto response = parser.release();
        WebhookResult result;
        result.status = static_cast<int>(response.result_int());
        result.body = std::move(response.body());
        result.ok = result.status == 200;
        if (!result.ok) result.error = kUnexpectedStatus;
        co_return result;
    }

    template <typename Stream>
    asio::awaitable<void> exchange(Stream& stream, http::request<http::string_body>& req,
                                   http::response_parser<http::string_body>& parser,
                                   beast::error_code& ec) {
        auto token = asio::redirect_error(asio::use_awaitable, ec);
        stage_ = "sending the request";
        co_await http::async_write(stream, req, token);
        if (ec || aborted_ || timed_out_) co_return;
        stage_ = "reading the response";
        beast::flat_buffer buffer;
        co_await http::async_read(stream, buffer, parser, token);
    }

    beast::tcp_stream& socket_layer() {
#ifdef BARERTC_WEBHOOK_HTTPS
        if (tls_) return beast::get_lowest_layer(*tls_);
#endif
        return stream_;
    }

    void cancel_io() {
        resolver_.cancel();
        beast::error_code ignored;
        socket_layer().socket().close(ignored);
    }

    WebhookResult error_result(std::string text) const {
        WebhookResult r;
        r.error = std::move(text);
        return r;
    }

    WebhookResult failure(const std::string& stage, const beast::error_code& ec) const {
        if (aborted_) return error_result("webhook call aborted: the server is shutting down");
        if (timed_out_ || ec == beast::error::timeout) {
            return error_result("webhook timed out after " + std::to_string(timeout_.count()) +
                                "s");
        }
        return error_result(stage + ": " + ec.message());
    }

    void finish(WebhookResult result) {
        deadline_.cancel();
        resolver_.cancel();
        beast::error_code ignored;
        socket_layer().socket().close(ignored);
        impl_.active.erase(this);
        if (!result.ok) spdlog::debug("webhook {} failed: {}", url_, result.error);
        try {
            if (done_) done_(std::move(result));
        } catch (const std::exception& e) {
            spdlog::error("webhook {}: the result handler threw: {}", url_, e.what());
        } catch (...) {
            spdlog::error("webhook {}: the result handler threw", url_);
        }
        impl_.call_finished();
    }

    Impl& impl_;
    std::string url_;
    std::string body_;
    std::chrono::seconds timeout_;
    std::function<void(WebhookResult)> done_;
    tcp::resolver resolver_;
    beast::tcp_stream stream_;
#ifdef BARERTC_WEBHOOK_HTTPS
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
#endif
    asio::steady_timer deadline_;
    std::string stage_;
    bool timed_out_ = false;
    bool aborted_ = false;
};

bool WebhookClient::https_supported() {
#ifdef BARERTC_WEBHOOK_HTTPS
    return true;
#else
    return false;
#endif
}

WebhookClient::WebhookClient(const std::string& extra_ca_file) : impl_(std::make_unique<Impl>()) {
#ifdef BARERTC_WEBHOOK_HTTPS
    beast::error_code ec;
    impl_->tls.set_default_verify_paths(ec);
    if (ec) spdlog::warn("webhooks: cannot load the system certificates: {}", ec.message());
    if (!extra_ca_file.empty()) {
        impl_->tls.load_verify_file(extra_ca_file, ec);
        if (ec) {
            spdlog::error("webhooks: cannot load CA file {}: {}", extra_ca_file, ec.message());
        }
    }
    impl_->tls.set_verify_mode(asio::ssl::verify_peer);
#else
    (void)extra_ca_file;
#endif
    impl_->thread = std::thread([impl = impl_.get()] {
        for (;;) {
            try {
                impl->ioc.run();
                return;
            } catch (const std::exception& e) {
                spdlog::error("webhooks: I/O thread error: {}", e.what());
            }
        }
    });
}

WebhookClient::~WebhookClient() {
    asio::post(impl_->ioc, [impl = impl_.get()] {
        impl->stopping = true;
        // Copy: abort() does not erase, but a completing call may while we iterate.
        const std::vector<Impl::Call*> calls(impl->active.begin(), impl->active.end());
        for (auto* call : calls) call->abort();
    });
    impl_->work.reset();
    impl_->thread.join();
}

void WebhookClient::post(std::string url, std::string json_body, std::chrono::seconds timeout,
                         std::function<void(WebhookResult)> done) {
    if (timeout <= std::chrono::seconds::zero()) timeout = kDefaultTimeout;
    {
        std::lock_guard lock(impl_->mutex);
        ++impl_->in_flight;
    }
    auto call = std::make_shared<Impl::Call>(*impl_, std::move(url), std::move(json_body), timeout,
                                             std::move(done));
    asio::co_spawn(impl_->ioc, Impl::Call::run(std::move(call)), [](std::exception_ptr e) {
        // run() catches what attempt() throws; this is only reached on a bug.
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            spdlog::error("webhooks: call ended with an exception: {}", ex.what());
        } catch (...) {
            spdlog::error("webhooks: call ended with an unknown exception");
        }
    });
}

bool WebhookClient::flush(std::chrono::milliseconds max_wait) {
    std::unique_lock lock(impl_->mutex);
    return impl_->idle.wait_for(lock, max_wait, [this] { return impl_->in_flight == 0; });
}

}  // namespace barertc::hooks
