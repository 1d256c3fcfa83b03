// The clients: dial, log in, read and classify every frame cheaply (no JSON parsing on the
// receive path), and send chat messages and images on a schedule.

#include "bench.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Parses the decimal digits at the start of `s` (stops at the first non-digit).
std::int64_t leading_number(std::string_view s) {
    std::int64_t v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') break;
        v = v * 10 + (ch - '0');
    }
    return v;
}

std::size_t count_occurrences(std::string_view hay, std::string_view needle) {
    std::size_t n = 0;
    const char* p = hay.data();
    std::size_t left = hay.size();
    while (left >= needle.size()) {
        const void* hit = memmem(p, left, needle.data(), needle.size());
        if (!hit) break;
        ++n;
        const auto skip =
            static_cast<std::size_t>(static_cast<const char*>(hit) - p) + needle.size();
        p += skip;
        left -= skip;
    }
    return n;
}

std::string login_json(std::size_t index, const std::string& secret) {
    const std::string name = "user" + std::to_string(index);
    return R"({"action":"login","username":")" + name + R"(","jwt":")" + make_jwt(name, secret) +
           R"(","dnd":false})";
}

}  // namespace

// ------------------------------------------------------------------------------------------

Shared::Shared(Config c) : config(std::move(c)) {
    // The smallest who entry is {"username":"user0","status":"online","video":0,
    // "loginAt":1751478800,"op":false}, 78 bytes plus a comma.
    full_who_min_bytes = config.clients * 75;
    image_slot_of.assign(config.clients, -1);
}

void Shared::set_image_senders(const std::vector<std::size_t>& indices) {
    image_slots = indices.size();
    image_slot_of.assign(config.clients, -1);
    for (std::size_t s = 0; s < indices.size(); ++s)
        image_slot_of[indices[s]] = static_cast<int>(s);
    image_sent_ns = std::make_unique<std::atomic<std::int64_t>[]>(
        std::max<std::size_t>(1, image_slots * kMaxImagesPerSender));
    for (std::size_t i = 0; i < image_slots * kMaxImagesPerSender; ++i) image_sent_ns[i] = 0;
}

Client::Client(Worker& w, std::size_t i) : worker(w), index(i), ws(w.ioc_) {}

Worker::Worker(Shared& shared, unsigned id, unsigned dial_slots)
    : shared_(shared), id_(id), dial_slots_(std::max(1u, dial_slots)) {}

Worker::~Worker() {
    if (thread_.joinable()) stop();
}

void Worker::add_client(std::size_t index) {
    clients_.push_back(std::make_unique<Client>(*this, index));
    clients_.back()->images_seen.assign(shared_.image_slots, 0);
}

Client* Worker::find(std::size_t index) {
    const std::size_t local = index / shared_.config.threads;
    return local < clients_.size() ? clients_[local].get() : nullptr;
}

void Worker::start() {
    thread_ = std::thread([this] {
        auto guard = asio::make_work_guard(ioc_);
        ioc_.run();
    });
}

void Worker::stop() {
    asio::post(ioc_, [this] {
        chat_timer_.cancel();
        for (auto& c : clients_) {
            c->ended = true;
            boost::system::error_code ignored;
            c->ws.next_layer().close(ignored);
        }
        ioc_.stop();
    });
    if (thread_.joinable()) thread_.join();
}

// ------------------------------------------------------------------------------------------
// Dialing

void Worker::dial_all() {
    asio::post(ioc_, [this] { dial_next(); });
}

void Worker::dial_next() {
    while (dials_in_flight_ < dial_slots_ && next_dial_ < clients_.size()) {
        dial(*clients_[next_dial_++]);
    }
}

void Worker::dial(Client& c) {
    c.holds_dial_slot = true;
    ++dials_in_flight_;
    const tcp::endpoint ep(asio::ip::address_v4::loopback(), shared_.config.port);
    c.ws.next_layer().async_connect(ep, [this, &c](boost::system::error_code ec) {
        if (ec) return fail(c, ec, "connect");
        boost::system::error_code ignored;
        c.ws.next_layer().set_option(tcp::no_delay(true), ignored);
        c.ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                        websocket::stream_base::none(), false});
        c.ws.read_message_max(256u * 1024 * 1024);
        c.ws.secure_prng(false);
        c.ws.auto_fragment(false);
        c.ws.async_handshake("127.0.0.1:" + std::to_string(shared_.config.port), "/ws",
                             [this, &c](boost::system::error_code e) {
                                 if (e) return fail(c, e, "handshake");
                                 on_open(c);
                             });
    });
}

void Worker::on_open(Client& c) {
    c.open = true;
    c.ws.text(true);
    counters.connected.fetch_add(1, std::memory_order_relaxed);
    do_read(c);
    if (shared_.config.login) {
        // The dial slot is held until the server confirms the login with `me`.
        send(c, std::make_shared<const std::string>(login_json(c.index, shared_.config.secret)));
    } else {
        release_slot(c);
    }
}

void Worker::release_slot(Client& c) {
    if (!c.holds_dial_slot) return;
    c.holds_dial_slot = false;
    --dials_in_flight_;
    dial_next();
}

void Worker::fail(Client& c, const boost::system::error_code& ec, const char* where) {
    if (c.ended) return;
    c.ended = true;
    if (c.open) {
        counters.disconnects.fetch_add(1, std::memory_order_relaxed);
    } else {
        counters.failed_dials.fetch_add(1, std::memory_order_relaxed);
    }
    if (errors_logged_ < 5) {
        ++errors_logged_;
        std::cerr << "client " << c.index << ": " << where << ": " << ec.message() << "\n";
    }
    boost::system::error_code ignored;
    c.ws.next_layer().close(ignored);
    release_slot(c);
}

// ------------------------------------------------------------------------------------------
// Receiving

void Worker::do_read(Client& c) {
    c.ws.async_read(c.buffer, [this, &c](boost::system::error_code ec, std::size_t) {
        if (ec) return fail(c, ec, "read");
        const auto data = c.buffer.cdata();
        on_frame(c, std::string_view(static_cast<const char*>(data.data()), data.size()));
        c.buffer.consume(c.buffer.size());
        // Images are large: do not keep every client's buffer at that peak. (Who lists of a few
        // thousand users stay: reallocating them for every list costs more.)
        if (c.buffer.capacity() > 1024 * 1024) c.buffer.shrink_to_fit();
        do_read(c);
    });
}

void Worker::on_frame(Client& c, std::string_view f) {
    const std::int64_t now = now_ns();
    counters.frames.fetch_add(1, std::memory_order_relaxed);
    counters.bytes.fetch_add(f.size(), std::memory_order_relaxed);
    if (starts_with(f, R"({"action":"message")")) {
        on_message(c, f, now);
    } else if (starts_with(f, R"({"action":"who")")) {
        counters.who.fetch_add(1, std::memory_order_relaxed);
        if (!c.full_who && f.size() >= shared_.full_who_min_bytes &&
            count_occurrences(f, R"("loginAt":)") >= shared_.config.clients) {
            c.full_who = true;
            counters.full_who.fetch_add(1, std::memory_order_relaxed);
            counters.last_full_who_ns.store(now, std::memory_order_relaxed);
        }
    } else if (starts_with(f, R"({"action":"me")")) {
        if (!c.logged_in) {
            c.logged_in = true;
            counters.logged_in.fetch_add(1, std::memory_order_relaxed);
            counters.last_login_ns.store(now, std::memory_order_relaxed);
            release_slot(c);
        }
    } else if (starts_with(f, R"({"action":"ping")")) {
        counters.pings.fetch_add(1, std::memory_order_relaxed);
    } else {
        note_other(f);
    }
}

void Worker::on_message(Client& c, std::string_view f, std::int64_t now) {
    // Chat: the text "t=<ns>" comes back rendered as "<p>t=<ns></p>", with the server's JSON
    // encoder escaping '<' and '>' as \u003c and \u003e like Go's does.
    static constexpr std::string_view kEscaped = R"(\u003cp\u003et=)";
    static constexpr std::string_view kPlain = "<p>t=";
    auto at = f.find(kEscaped);
    std::size_t skip = kEscaped.size();
    if (at == std::string_view::npos) {
        at = f.find(kPlain);
        skip = kPlain.size();
    }
    if (at != std::string_view::npos) {
        const std::int64_t sent = leading_number(f.substr(at + skip));
        const int phase = sent >= shared_.phase1_start_ns.load(std::memory_order_relaxed);
        latencies[phase].push_back(now - sent);
        counters.chat.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (f.find("img src=") != std::string_view::npos) {
        counters.images.fetch_add(1, std::memory_order_relaxed);
        counters.image_bytes.fetch_add(f.size(), std::memory_order_relaxed);
        static constexpr std::string_view kUser = R"("username":"user)";
        const auto at = f.find(kUser);
        if (at == std::string_view::npos) return;
        const auto sender = static_cast<std::size_t>(leading_number(f.substr(at + kUser.size())));
        if (sender >= shared_.image_slot_of.size() || shared_.image_slot_of[sender] < 0) return;
        const auto slot = static_cast<std::size_t>(shared_.image_slot_of[sender]);
        const std::uint32_t seq = c.images_seen[slot]++;
        if (seq >= Shared::kMaxImagesPerSender) return;
        const std::int64_t sent =
            shared_.image_sent_ns[slot * Shared::kMaxImagesPerSender + seq].load(
                std::memory_order_acquire);
        if (sent > 0) image_latencies.push_back(now - sent);
        return;
    }
    note_other(f);
}

void Worker::note_other(std::string_view f) {
    counters.other.fetch_add(1, std::memory_order_relaxed);
    // BENCH_DEBUG=1 shows the first frames that were not chat, who, me or ping.
    static const bool debug = std::getenv("BENCH_DEBUG") != nullptr;
    if (debug && others_logged_ < 10 && !starts_with(f, R"({"action":"echo")") &&
        !starts_with(f, R"({"action":"error")")) {
        ++others_logged_;
        std::cerr << "client frame: " << f.substr(0, 300) << "\n";
    }
}

// ------------------------------------------------------------------------------------------
// Sending

void Worker::send(Client& c, Payload p) {
    if (c.ended) return;
    c.outq.push_back(std::move(p));
    if (!c.writing) do_write(c);
}

void Worker::do_write(Client& c) {
    c.writing = true;
    const std::string& front = *c.outq.front();
    c.ws.async_write(asio::buffer(front), [this, &c](boost::system::error_code ec, std::size_t) {
        c.writing = false;
        if (ec) return fail(c, ec, "write");
        c.outq.pop_front();
        if (!c.outq.empty() && !c.ended) do_write(c);
    });
}

void Worker::start_chat(std::vector<std::size_t> senders, double rate_each, std::int64_t start_ns,
                        std::int64_t end_ns) {
    asio::post(ioc_, [this, senders = std::move(senders), rate_each, start_ns, end_ns] {
        chat_senders_.clear();
        for (auto i : senders) {
            if (Client* c = find(i)) chat_senders_.push_back(c);
        }
        if (chat_senders_.empty() || rate_each <= 0) return;
        chat_period_ns_ = 1e9 / (rate_each * static_cast<double>(chat_senders_.size()));
        // Workers start a fraction of a period apart so that their sends interleave.
        chat_start_ns_ =
            start_ns + static_cast<std::int64_t>(chat_period_ns_ * id_ / shared_.config.threads);
        chat_end_ns_ = end_ns;
        chat_n_ = 0;
        chat_tick();
    });
}

void Worker::chat_tick() {
    const std::int64_t now = now_ns();
    std::int64_t due = chat_start_ns_ + static_cast<std::int64_t>(chat_period_ns_ * chat_n_);
    if (chat_head_.empty()) {
        chat_head_ =
            R"({"action":"message","channel":")" + shared_.config.channel + R"(","message":"t=)";
    }
    while (due <= now && due < chat_end_ns_) {
        Client& c = *chat_senders_[chat_n_ % chat_senders_.size()];
        if (!c.ended && c.open) {
            auto msg = std::make_shared<std::string>();
            msg->reserve(chat_head_.size() + 24);
            *msg += chat_head_;
            *msg += std::to_string(now_ns());
            *msg += "\"}";
            send(c, std::move(msg));
            counters.chat_sent.fetch_add(1, std::memory_order_relaxed);
        }
        ++chat_n_;
        due = chat_start_ns_ + static_cast<std::int64_t>(chat_period_ns_ * chat_n_);
    }
    if (due >= chat_end_ns_) return;
    chat_timer_.expires_at(Clock::time_point(std::chrono::nanoseconds(due)));
    chat_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) chat_tick();
    });
}

void Worker::send_image(std::size_t index, Payload message) {
    asio::post(ioc_, [this, index, message = std::move(message)] {
        Client* c = find(index);
        if (!c || c->ended || !c->open) return;
        const int slot = shared_.image_slot_of[index];
        if (slot >= 0) {
            // The n-th image of a sender is matched by the n-th image received from it.
            const auto s = static_cast<std::size_t>(slot);
            if (images_sent_by_slot_.size() < shared_.image_slots) {
                images_sent_by_slot_.resize(shared_.image_slots);
            }
            const std::uint32_t n = images_sent_by_slot_[s]++;
            if (n < Shared::kMaxImagesPerSender) {
                shared_.image_sent_ns[s * Shared::kMaxImagesPerSender + n].store(
                    now_ns(), std::memory_order_release);
            }
        }
        send(*c, message);
        counters.images_sent.fetch_add(1, std::memory_order_relaxed);
    });
}

}  // namespace bench
