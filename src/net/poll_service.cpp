#include "net/poll_service.hpp"

#include "api/post_request.hpp"
#include "chat/protocol.hpp"
#include "config/settings.hpp"
#include "net/connection.hpp"
#include "net/connection_limiter.hpp"
#include "net/outbox.hpp"
#include "util/json_writer.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace barertc::net {

namespace {
constexpr std::string_view kTimedOutReason = "timed out";
}  // namespace

namespace asio = boost::asio;
namespace bj = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// protocol.md §17.
constexpr std::chrono::seconds kIdleTimeout{60};
constexpr std::chrono::seconds kSweepInterval{10};
constexpr std::chrono::seconds kPingInterval{30};

// protocol.md §20.
constexpr std::string_view kBothRequired =
    "Authentication error: SessionID and Username both required.";
constexpr std::string_view kNotLoggedIn = "Not logged in.";
constexpr std::string_view kExpired =
    "Your authentication has expired, please log back into the chat again.";
constexpr std::string_view kDisconnect = R"({"action":"disconnect"})";
// A login refused by [Limits] MaxConnections / ConnectionsPerIP (the WebSocket upgrade gets a
// 503 with the same cause).
constexpr std::string_view kTooManyConnections =
    "Too many connections from your address or to this server. Please try again later.";

std::int64_t ticks(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

constexpr std::int64_t ticks(std::chrono::seconds d) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// {"username":...,"session_id":...,"messages":[...]}: compact, the credentials omitted when
// empty, `messages` always present. `messages` holds already-serialized payloads joined by
// commas. The trailing newline is what Go's JSON encoder writes after every value.
std::string poll_body(std::string_view username, std::string_view session_id,
                      std::string_view messages) {
    std::string out;
    out.reserve(64 + username.size() + session_id.size() + messages.size());
    json::ObjectWriter w(out);
    w.field_nonempty("username", username);
    w.field_nonempty("session_id", session_id);
    w.key("messages");
    out.push_back('[');
    out.append(messages);
    out.push_back(']');
    w.close();
    out.push_back('\n');
    return out;
}

// How to answer a request after the request itself has been moved away: handling hops to the
// room's strand and back, and only the version and keep-alive flag matter for the answer.
struct Reply {
    unsigned version = 11;
    bool keep_alive = true;
    Respond respond;

    void send(http::status status, std::string_view username, std::string_view session_id,
              std::string_view messages) const {
        Request head;
        head.version(version);
        head.keep_alive(keep_alive);
        respond(make_response(head, status, "application/json",
                              poll_body(username, session_id, messages)));
    }
    void ok(std::string_view username, std::string_view session_id,
            std::string_view messages) const {
        send(http::status::ok, username, session_id, messages);
    }
    // A rejected request: one ChatServer notice (steps 1–4 and 8 of protocol.md §20).
    void error(std::string_view text, http::status status = http::status::bad_request) const {
        send(status, {}, {}, *chat::chat_server_notice(text));
    }
    // Step 5: the page drops its credentials and shows the login again.
    void expired() const {
        send(http::status::bad_request, {}, {},
             *chat::chat_server_notice(kExpired) + "," + std::string(kDisconnect));
    }
};

}  // namespace

// ------------------------------------------------------------------------------------------
// The registry of live polling sessions.

struct PollService::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context& ioc, ChatService& chat, config::LiveSettings& settings)
        : chat(chat), settings(settings), strand(asio::make_strand(ioc)), sweep_timer(strand) {}

    void handle(Request req, RequestContext ctx, Respond respond);
    void start_session(chat::ClientMessage login, const RequestContext& ctx, Reply reply);
    void continue_session(std::shared_ptr<Session> session, std::string username,
                          std::optional<chat::ClientMessage> msg, Reply reply);
    void finish(const chat::Room& room, Session& session, const Reply& reply);

    std::shared_ptr<Session> find(const std::string& token);
    // Publishes a logged-in session under `token`; false if it was dropped meanwhile.
    bool add(const std::shared_ptr<Session>& session, std::string token);
    // Forgets the session and detaches it from the room; idempotent.
    void remove(Session& session, std::string_view why);

    void schedule_sweep();
    void sweep();

    ChatService& chat;
    config::LiveSettings& settings;
    // The sweep timer's own strand, so that stop() from any thread cannot race the timer.
    asio::strand<asio::io_context::executor_type> strand;
    asio::steady_timer sweep_timer;
    bool stopped = false;  // on `strand`

    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<Session>> sessions;  // by session_id
};

// ------------------------------------------------------------------------------------------
// One polling client, as the room sees it: a connection whose frames wait in an outbox until
// the next request takes them.

class PollService::Session : public Connection {
  public:
    Session(chat::SessionId id, Outbox::Limits limits, std::weak_ptr<Impl> owner,
            Clock::time_point now)
        : id_(id),
          outbox_(limits),
          owner_(std::move(owner)),
          last_seen_(ticks(now)),
          last_ping_(ticks(now)) {}

    chat::SessionId id() const { return id_; }

    // Set once, under the registry's mutex, before the session is published; read only by
    // whoever found it in the registry afterwards.
    const std::string& token() const { return token_; }
    void set_token(std::string token) { token_ = std::move(token); }

    void deliver(const chat::Payload& payload, chat::PayloadKind kind) override {
        if (outbox_.push(payload, kind, Clock::now()) == Outbox::Push::Overflow) {
            drop("outbox overflow");
        }
    }

    void check_health(Clock::time_point now) override {
        if (!removed() && outbox_.stuck(now)) drop("outbox stuck");
    }

    // Nobody would fetch a shutdown notice before the process is gone, and waiting for the
    // next poll would only hold the shutdown up: leave at once.
    void close_going_away() override { drop("server shutting down"); }

    std::size_t queued_bytes() const override { return outbox_.queued_bytes(); }

    // Everything queued, as the comma-separated contents of a JSON array.
    std::string drain() {
        std::string out;
        while (auto frame = outbox_.next()) {
            if (!out.empty()) out.push_back(',');
            out.append(**frame);
        }
        return out;
    }

    void touch(Clock::time_point now) { last_seen_ = ticks(now); }
    bool idle_since(Clock::time_point cutoff) const { return last_seen_.load() < ticks(cutoff); }

    // True at most once per ping interval, however many requests race for it.
    bool ping_due(Clock::time_point now) {
        const std::int64_t now_ns = ticks(now);
        std::int64_t last = last_ping_.load();
        while (now_ns - last > ticks(kPingInterval)) {
            if (last_ping_.compare_exchange_weak(last, now_ns)) return true;
        }
        return false;
    }

    bool removed() const { return removed_.load(); }
    // True for the one caller that gets to tear the session down.
    bool mark_removed() { return !removed_.exchange(true); }
    void close_outbox() { outbox_.close(); }

    // The connection slot this session holds (set before it is attached, released once by
    // whoever removes it): poll sessions count toward MaxConnections and ConnectionsPerIP
    // like sockets do.
    void hold_slot(ConnectionLimiter* limiter, std::string address) {
        limiter_ = limiter;
        slot_address_ = std::move(address);
    }
    void release_slot() {
        if (auto* limiter = std::exchange(limiter_, nullptr)) limiter->release(slot_address_);
    }

  private:
    void drop(std::string_view why) {
        if (auto owner = owner_.lock()) owner->remove(*this, why);
    }

    const chat::SessionId id_;
    Outbox outbox_;
    std::weak_ptr<Impl> owner_;
    std::string token_;
    std::atomic<std::int64_t> last_seen_;
    std::atomic<std::int64_t> last_ping_;
    std::atomic<bool> removed_{false};
    ConnectionLimiter* limiter_ = nullptr;
    std::string slot_address_;
};

// ------------------------------------------------------------------------------------------
// Request handling (protocol.md §20, with the fix of §22.3).

void PollService::Impl::handle(Request req, RequestContext ctx, Respond respond) {
    Reply reply{req.version(), req.keep_alive(), std::move(respond)};

    // Steps 1–3.
    auto body = api::read_post_body(req);
    if (!body.body) return reply.error(body.error);
    std::string error, username, session_id;
    api::Fields fields(*body.body, error);
    if (!fields.get("username", username) || !fields.get("session_id", session_id)) {
        return reply.error(error);
    }
    std::optional<chat::ClientMessage> msg;
    if (const auto* raw = fields.raw("msg"); raw && !raw->is_null()) {
        if (!raw->is_object()) {
            return reply.error("json: cannot unmarshal " + std::string(api::json_kind(*raw)) +
                               " into Go struct field msg of type object");
        }
        auto parsed = chat::parse_client_message(bj::serialize(*raw));
        if (!parsed.message) return reply.error("json: cannot decode msg: " + parsed.error);
        msg = std::move(parsed.message);
    }

    // Step 4.
    if (username.empty() != session_id.empty()) return reply.error(kBothRequired);

    if (!username.empty()) {
        // Step 5, first half: an unknown session id. Nothing is removed, whatever session
        // holds that username (§22.3): otherwise anyone could sign anyone out.
        auto session = find(session_id);
        if (!session) return reply.expired();
        return continue_session(std::move(session), std::move(username), std::move(msg),
                                std::move(reply));
    }

    // Steps 8 and 9.
    if (!msg || msg->action != "login") return reply.error(kNotLoggedIn);
    start_session(std::move(*msg), ctx, std::move(reply));
}

void PollService::Impl::start_session(chat::ClientMessage login, const RequestContext& ctx,
                                      Reply reply) {
    const auto cfg = settings.get();
    if (ctx.limiter && !ctx.limiter->try_acquire(ctx.remote_address, cfg->limits.max_connections,
                                                 cfg->limits.connections_per_ip)) {
        return reply.error(kTooManyConnections, http::status::service_unavailable);
    }
    auto session = std::make_shared<Session>(
        chat.new_session_id(), Outbox::limits_from(cfg->limits), weak_from_this(), Clock::now());
    if (ctx.limiter) session->hold_slot(ctx.limiter, ctx.remote_address);
    const auto id = session->id();
    // The three posts reach the room's strand in this order, so the login's output is in the
    // outbox by the time the last callback drains it.
    chat.attach(id, session, chat::ConnectionInfo{ctx.remote_address});
    chat.incoming(id, std::move(login));
    chat.with_room([weak = weak_from_this(), session, reply = std::move(reply)](chat::Room& room,
                                                                                chat::Output&) {
        auto self = weak.lock();
        if (!self) return;
        const auto id = session->id();
        const std::string messages = session->drain();
        if (!session->removed() && room.is_authenticated(id)) {
            std::string token;
            try {
                token = config::random_uuid_v4();
            } catch (const std::exception& e) {
                spdlog::error("poll session {}: {}", id, e.what());
            }
            if (!token.empty() && self->add(session, std::move(token))) {
                reply.ok(room.username_of(id), session->token(), messages);
                return;
            }
        }
        // A failed login (bad token, ban, ...): the answer carries the reason, and the
        // session goes away again.
        self->remove(*session, "login failed");
        reply.ok({}, {}, messages);
    });
}

void PollService::Impl::continue_session(std::shared_ptr<Session> session, std::string username,
                                         std::optional<chat::ClientMessage> msg, Reply reply) {
    // The username must be checked against the room's current name for the session: a kick
    // or a login elsewhere clears it on the room's strand.
    chat.with_room([weak = weak_from_this(), session = std::move(session),
                    username = std::move(username), msg = std::move(msg),
                    reply = std::move(reply)](chat::Room& room, chat::Output&) mutable {
        auto self = weak.lock();
        if (!self) return;
        const auto id = session->id();
        if (session->removed() || !room.is_authenticated(id) || room.username_of(id) != username) {
            // Step 5, second half. With the right session id the owner is asking: when the
            // room has already signed the session out, it can go now rather than at the
            // idle timeout. An authenticated session under another name is left alone.
            if (!session->removed() && !room.is_authenticated(id)) {
                self->remove(*session, "signed out");
            }
            reply.expired();
            return;
        }
        // Steps 6 and 7.
        const auto now = Clock::now();
        session->touch(now);
        if (msg) self->chat.incoming(id, std::move(*msg));
        if (session->ping_due(now)) self->chat.ping(id);
        self->chat.with_room(
            [weak, session, reply = std::move(reply)](chat::Room& room, chat::Output&) {
                if (auto self = weak.lock()) self->finish(room, *session, reply);
            });
    });
}

// On the room's strand, after the request's message (and ping) were handled.
void PollService::Impl::finish(const chat::Room& room, Session& session, const Reply& reply) {
    const auto id = session.id();
    const std::string messages = session.drain();
    if (session.removed()) {
        // Dropped while the request was in flight (overflow, idle sweep).
        reply.expired();
        return;
    }
    if (!room.is_authenticated(id)) {
        // The message signed the session out (a failed repeated login): hand over what
        // explains it, without credentials, and forget the session.
        remove(session, "signed out");
        reply.ok({}, {}, messages);
        return;
    }
    reply.ok(room.username_of(id), session.token(), messages);
}

// ------------------------------------------------------------------------------------------
// Registry.

std::shared_ptr<PollService::Session> PollService::Impl::find(const std::string& token) {
    std::lock_guard lock(mutex);
    auto it = sessions.find(token);
    return it == sessions.end() ? nullptr : it->second;
}

bool PollService::Impl::add(const std::shared_ptr<Session>& session, std::string token) {
    std::lock_guard lock(mutex);
    if (session->removed()) return false;
    session->set_token(token);
    session->touch(Clock::now());
    sessions.emplace(std::move(token), session);
    return true;
}

void PollService::Impl::remove(Session& session, std::string_view why) {
    if (!session.mark_removed()) return;
    // Keeps the session alive until the end of this call even when the registry held the
    // last reference (remove() is called from the session's own methods too).
    std::shared_ptr<Session> keep;
    {
        std::lock_guard lock(mutex);
        if (!session.token().empty()) {
            auto it = sessions.find(session.token());
            if (it != sessions.end() && it->second.get() == &session) {
                keep = std::move(it->second);
                sessions.erase(it);
            }
        }
    }
    spdlog::debug("poll session {}: removed ({})", session.id(), why);
    session.close_outbox();
    session.release_slot();
    chat.detach(session.id(),
                why == kTimedOutReason ? chat::presence::kTimedOut : chat::presence::kExited);
}

void PollService::Impl::schedule_sweep() {
    sweep_timer.expires_after(kSweepInterval);
    sweep_timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->stopped) return;
        self->sweep();
        self->schedule_sweep();
    });
}

void PollService::Impl::sweep() {
    const auto cutoff = Clock::now() - kIdleTimeout;
    std::vector<std::shared_ptr<Session>> idle;
    {
        std::lock_guard lock(mutex);
        for (const auto& [token, session] : sessions) {
            if (session->idle_since(cutoff)) idle.push_back(session);
        }
    }
    // protocol.md §17: others see "has timed out!" for an idle session.
    for (const auto& session : idle) remove(*session, kTimedOutReason);
}

// ------------------------------------------------------------------------------------------

PollService::PollService(asio::io_context& ioc, ChatService& chat, config::LiveSettings& settings)
    : impl_(std::make_shared<Impl>(ioc, chat, settings)) {}

PollService::~PollService() = default;

void PollService::start() {
    asio::post(impl_->strand, [weak = std::weak_ptr<Impl>(impl_)] {
        auto self = weak.lock();
        if (!self || self->stopped) return;
        self->schedule_sweep();
    });
}

void PollService::stop() {
    asio::post(impl_->strand, [weak = std::weak_ptr<Impl>(impl_)] {
        auto self = weak.lock();
        if (!self) return;
        self->stopped = true;
        self->sweep_timer.cancel();
    });
}

void PollService::handle(Request req, RequestContext ctx, Respond respond) {
    impl_->handle(std::move(req), std::move(ctx), std::move(respond));
}

}  // namespace barertc::net
