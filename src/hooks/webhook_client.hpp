#pragma once
// Outgoing webhook calls to the host website (features.md §8): an HTTP POST of a JSON body,
// bounded by a timeout, run on the client's own I/O thread so that chat never waits on the
// website (decisions.md §10).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace barertc::hooks {

struct WebhookResult {
    bool ok = false;    // the website answered 200
    int status = 0;     // HTTP status, 0 when no response arrived
    std::string body;   // response body, also on a non-200 status
    std::string error;  // empty when ok
};

class WebhookClient {
  public:
    // Text of the error for any status other than 200, as the original words it.
    static constexpr const char* kUnexpectedStatus = "unexpected error from webhook URL";
    // Text of the error for https URLs in a build without TLS support.
    static constexpr const char* kHttpsUnsupported = "https webhooks are not supported yet";

    // Whether this build can call https URLs (needs BARERTC_WEBHOOK_HTTPS and libssl).
    static bool https_supported();

    // Starts the I/O thread. `extra_ca_file`, if not empty, is a PEM file trusted in addition
    // to the system's certificate store (for a website with a private CA, and for tests).
    explicit WebhookClient(const std::string& extra_ca_file = {});
    WebhookClient(const WebhookClient&) = delete;
    WebhookClient& operator=(const WebhookClient&) = delete;
    // Aborts calls still running (their callbacks get an error) and joins the thread. Must not
    // be called from a callback.
    ~WebhookClient();

    // POSTs `json_body` to `url` with Content-Type application/json. Returns at once; `done`
    // runs later on the client's thread, exactly once. The whole call (name lookup, connect,
    // TLS, request and response) is bounded by `timeout`; a timeout of zero or less means
    // 10 seconds, the original's.
    void post(std::string url, std::string json_body, std::chrono::seconds timeout,
              std::function<void(WebhookResult)> done);

    // Waits until no call is in flight, or `max_wait` has passed; true if none is left.
    bool flush(std::chrono::milliseconds max_wait);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace barertc::hooks
