// The soak scenario (issue 8): mixed load for a given time, counting every delivery.
//
// Steady clients stay connected the whole run. Each posts public messages in the lobby and
// off-topic channels, sends DMs to the other steady clients and, in turn, shares a photo of
// about 1 MB; every few seconds it sends a client `ping`. Churning clients connect, log in,
// chat a little and leave again, over and over (joins and leaves, who lists, presence). The
// server's RSS is sampled every few seconds. At the end the senders stop, the generator waits
// for the deliveries in flight, and compares what each steady client received with what was
// sent to it: every public message and photo of a steady client must reach every steady client
// (the sender included: public messages are echoed), every DM its recipient. Lost messages,
// duplicates, unexpected disconnects and ChatServer errors are reported; any of them, or a
// server that died, fails the run (exit status 1).

#include "bench.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace bj = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

std::string base64(std::string_view data) {
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(data[k]); };
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    if (data.size() - i == 1) {
        const unsigned v = byte(i) << 16;
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += "==";
    } else if (data.size() - i == 2) {
        const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string json_text(const bj::object& o) {
    return bj::serialize(o);
}

struct SoakClient {
    SoakClient(asio::io_context& ioc, std::size_t index, bool steady)
        : ws(std::make_unique<websocket::stream<tcp::socket>>(ioc)), index(index), steady(steady) {}
    std::unique_ptr<websocket::stream<tcp::socket>> ws;  // replaced for each churn cycle
    beast::flat_buffer buffer;
    std::deque<Payload> outq;
    std::size_t index;
    bool steady;
    std::string name;  // the `sub` it logs in with
    bool writing = false;
    bool reading = false;
    bool open = false;
    bool logged_in = false;
    bool closing = false;     // we are closing it on purpose
    unsigned generation = 0;  // churners: which life this is
    // Steady clients: per sender index, deliveries received and the last sequence number.
    std::vector<std::uint64_t> public_from, dm_from, images_from;
    std::vector<std::int64_t> last_public_seq, last_dm_seq;
    std::uint64_t duplicates = 0;
    std::uint64_t pings = 0;
    // Sending schedule (ns).
    std::int64_t next_public = 0, next_dm = 0, next_client_ping = 0;
    std::int64_t public_seq = 0, dm_seq = 0;
    // Churners: when to leave or come back.
    std::int64_t churn_at = 0;
};

class Soak {
  public:
    explicit Soak(const SoakOptions& o) : o_(o), rng_(12345) {}

    int run();

  private:
    void dial(SoakClient& c);
    void on_open(SoakClient& c);
    void do_read(SoakClient& c);
    void on_frame(SoakClient& c, const std::string& frame);
    void send(SoakClient& c, Payload p);
    void do_write(SoakClient& c);
    void error(const std::string& what);
    void tick();
    void churn(SoakClient& c, std::int64_t now);
    std::int64_t jitter(double period_s);
    void run_for(std::chrono::milliseconds d);
    bool all_delivered() const;

    SoakOptions o_;
    asio::io_context ioc_{1};
    std::vector<std::unique_ptr<SoakClient>> clients_;  // steady first, then churners
    std::size_t steady_ = 0;
    std::mt19937 rng_;
    bool sending_ = false;
    Payload photo_;
    std::int64_t next_photo_ = 0;
    std::size_t next_photo_sender_ = 0;
    // What was sent by steady clients (public and images to everyone, DMs by recipient).
    std::vector<std::uint64_t> public_sent_, images_sent_;
    std::vector<std::vector<std::uint64_t>> dm_sent_;  // [recipient][sender]
    std::uint64_t public_total_ = 0, dm_total_ = 0, images_total_ = 0, churn_messages_ = 0;
    std::uint64_t joins_ = 0, leaves_ = 0, client_pings_ = 0;
    std::uint64_t errors_ = 0;
    std::vector<std::string> error_samples_;
    asio::steady_timer timer_{ioc_};
};

void Soak::error(const std::string& what) {
    ++errors_;
    if (error_samples_.size() < 10) error_samples_.push_back(what);
    if (errors_ <= 10) std::cerr << "soak: " << what << "\n";
}

std::int64_t Soak::jitter(double period_s) {
    std::uniform_real_distribution<double> d(0.5, 1.5);
    return static_cast<std::int64_t>(period_s * d(rng_) * 1e9);
}

void Soak::dial(SoakClient& c) {
    c.ws->next_layer().async_connect(
        tcp::endpoint(asio::ip::address_v4::loopback(), o_.port),
        [this, &c](boost::system::error_code ec) {
            if (ec) return error(c.name + ": connect: " + ec.message());
            c.ws->set_option(websocket::stream_base::timeout{
                std::chrono::seconds(30), websocket::stream_base::none(), false});
            c.ws->read_message_max(64 * 1024 * 1024);
            c.ws->async_handshake("127.0.0.1:" + std::to_string(o_.port), "/ws",
                                  [this, &c](boost::system::error_code e) {
                                      if (e) return error(c.name + ": handshake: " + e.message());
                                      on_open(c);
                                  });
        });
}

void Soak::on_open(SoakClient& c) {
    c.open = true;
    do_read(c);
    send(c,
         std::make_shared<const std::string>(json_text(
             {{"action", "login"}, {"username", c.name}, {"jwt", make_jwt(c.name, o_.secret)}})));
}

void Soak::do_read(SoakClient& c) {
    c.reading = true;
    c.ws->async_read(c.buffer, [this, &c](boost::system::error_code ec, std::size_t) {
        c.reading = false;
        if (ec) {
            const bool expected = c.closing || ioc_.stopped();
            c.open = false;
            c.logged_in = false;
            if (!expected) error(c.name + ": disconnected: " + ec.message());
            return;
        }
        const std::string frame = beast::buffers_to_string(c.buffer.cdata());
        c.buffer.consume(c.buffer.size());
        on_frame(c, frame);
        do_read(c);
    });
}

// "P-<sender>-<seq>" / "D-<sender>-<seq>" inside "<p>...</p>".
bool parse_tag(std::string_view html, char kind, std::size_t& sender, std::int64_t& seq) {
    if (!html.starts_with("<p>") || html.size() < 8 || html[3] != kind || html[4] != '-') {
        return false;
    }
    const auto dash = html.find('-', 5);
    const auto end = html.find('<', 5);
    if (dash == std::string_view::npos || end == std::string_view::npos || dash > end) {
        return false;
    }
    sender = std::stoul(std::string(html.substr(5, dash - 5)));
    seq = std::stoll(std::string(html.substr(dash + 1, end - dash - 1)));
    return true;
}

void Soak::on_frame(SoakClient& c, const std::string& frame) {
    boost::system::error_code ec;
    const bj::value v = bj::parse(frame, ec);
    if (ec || !v.is_object()) return error(c.name + ": not a JSON object");
    const bj::object& m = v.get_object();
    const auto field = [&](const char* key) -> std::string_view {
        const auto* x = m.if_contains(key);
        return x && x->is_string() ? std::string_view(x->get_string()) : std::string_view();
    };
    const std::string_view action = field("action");
    if (action == "me" && !c.logged_in) {
        c.logged_in = true;
        if (!c.steady) ++joins_;
        return;
    }
    if (action == "ping") {
        ++c.pings;
        return;
    }
    if (action == "error") {
        // Welcome messages come as ChatServer notices for a channel; any other is an error.
        if (field("channel").empty())
            error(c.name + ": ChatServer: " + std::string(field("message")));
        return;
    }
    if (!c.steady || action != "message") return;
    const std::string_view from = field("username");
    if (!from.starts_with("steady")) return;
    std::size_t sender = 0;
    try {
        sender = std::stoul(std::string(from.substr(6)));
    } catch (const std::exception&) {
        return;
    }
    if (sender >= steady_) return;
    const std::string_view html = field("message");
    const std::string_view channel = field("channel");
    std::int64_t seq = 0;
    std::size_t tagged_sender = 0;
    if (html.find("<img") != std::string_view::npos) {
        ++c.images_from[sender];
    } else if (!channel.starts_with('@') && parse_tag(html, 'P', tagged_sender, seq)) {
        if (seq <= c.last_public_seq[sender]) ++c.duplicates;
        c.last_public_seq[sender] = seq;
        ++c.public_from[sender];
    } else if (channel.starts_with('@') && parse_tag(html, 'D', tagged_sender, seq)) {
        // A DM arrives at its recipient with channel "@sender"; the sender's own copy names
        // the recipient and is not counted.
        if (channel.substr(1) != from) return;
        if (seq <= c.last_dm_seq[sender]) ++c.duplicates;
        c.last_dm_seq[sender] = seq;
        ++c.dm_from[sender];
    }
}

void Soak::send(SoakClient& c, Payload p) {
    c.outq.push_back(std::move(p));
    if (!c.writing) do_write(c);
}

void Soak::do_write(SoakClient& c) {
    if (c.outq.empty() || !c.open) {
        c.writing = false;
        return;
    }
    c.writing = true;
    c.ws->text(true);
    const auto& p = c.outq.front();
    c.ws->async_write(asio::buffer(*p), [this, &c](boost::system::error_code ec, std::size_t) {
        c.outq.pop_front();
        if (ec) {
            c.writing = false;
            c.outq.clear();
            if (!c.closing && !ioc_.stopped()) error(c.name + ": write: " + ec.message());
            return;
        }
        do_write(c);
    });
}

void Soak::churn(SoakClient& c, std::int64_t now) {
    if (now < c.churn_at) return;
    if (c.open && c.logged_in) {
        // Say something, then leave.
        ++churn_messages_;
        send(c, std::make_shared<const std::string>(json_text(
                    {{"action", "message"}, {"channel", "lobby"}, {"message", "bye for now"}})));
        c.closing = true;
        c.ws->async_close(websocket::close_code::normal, [&c](boost::system::error_code) {
            c.open = false;
            c.logged_in = false;
        });
        ++leaves_;
        c.churn_at = now + jitter(1.0);
        return;
    }
    if (c.open || c.writing || c.reading) return;  // still closing
    // Come back on a fresh socket.
    c.ws = std::make_unique<websocket::stream<tcp::socket>>(ioc_);
    c.buffer.consume(c.buffer.size());
    c.outq.clear();
    c.closing = false;
    ++c.generation;
    dial(c);
    c.churn_at = now + jitter(3.0);
}

void Soak::tick() {
    const std::int64_t now = now_ns();
    if (sending_) {
        for (std::size_t i = 0; i < steady_; ++i) {
            SoakClient& c = *clients_[i];
            if (!c.logged_in) continue;
            if (o_.rate > 0 && now >= c.next_public) {
                c.next_public = now + jitter(1.0 / o_.rate);
                const char* channel = (c.public_seq % 3 == 2) ? "offtopic" : "lobby";
                send(c, std::make_shared<const std::string>(
                            json_text({{"action", "message"},
                                       {"channel", channel},
                                       {"message", "P-" + std::to_string(i) + "-" +
                                                       std::to_string(++c.public_seq)}})));
                ++public_sent_[i];
                ++public_total_;
            }
            if (o_.dm_rate > 0 && steady_ > 1 && now >= c.next_dm) {
                c.next_dm = now + jitter(1.0 / o_.dm_rate);
                std::size_t to = std::uniform_int_distribution<std::size_t>(0, steady_ - 2)(rng_);
                if (to >= i) ++to;
                send(c, std::make_shared<const std::string>(
                            json_text({{"action", "message"},
                                       {"channel", "@" + clients_[to]->name},
                                       {"message", "D-" + std::to_string(i) + "-" +
                                                       std::to_string(++c.dm_seq)}})));
                ++dm_sent_[to][i];
                ++dm_total_;
            }
            if (now >= c.next_client_ping) {
                c.next_client_ping = now + jitter(10.0);
                send(c, std::make_shared<const std::string>(R"({"action":"ping"})"));
                ++client_pings_;
            }
        }
        if (photo_ && o_.image_interval > 0 && now >= next_photo_) {
            next_photo_ = now + static_cast<std::int64_t>(o_.image_interval * 1e9);
            const std::size_t i = next_photo_sender_++ % steady_;
            if (clients_[i]->logged_in) {
                send(*clients_[i], photo_);
                ++images_sent_[i];
                ++images_total_;
            }
        }
        for (std::size_t i = steady_; i < clients_.size(); ++i) churn(*clients_[i], now);
    }
    timer_.expires_after(std::chrono::milliseconds(20));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) tick();
    });
}

void Soak::run_for(std::chrono::milliseconds d) {
    ioc_.restart();
    ioc_.run_for(d);
}

bool Soak::all_delivered() const {
    for (std::size_t r = 0; r < steady_; ++r) {
        const SoakClient& c = *clients_[r];
        for (std::size_t s = 0; s < steady_; ++s) {
            if (c.public_from[s] < public_sent_[s] || c.images_from[s] < images_sent_[s] ||
                c.dm_from[s] < dm_sent_[r][s]) {
                return false;
            }
        }
    }
    return true;
}

bool process_alive(int pid) {
    return pid > 0 && ::kill(pid, 0) == 0;
}

int Soak::run() {
    steady_ = o_.steady;
    const std::size_t total = o_.steady + o_.churners;
    public_sent_.assign(steady_, 0);
    images_sent_.assign(steady_, 0);
    dm_sent_.assign(steady_, std::vector<std::uint64_t>(steady_, 0));
    for (std::size_t i = 0; i < total; ++i) {
        auto c = std::make_unique<SoakClient>(ioc_, i, i < steady_);
        c->name = c->steady ? "steady" + std::to_string(i) : "churn" + std::to_string(i);
        c->public_from.assign(steady_, 0);
        c->dm_from.assign(steady_, 0);
        c->images_from.assign(steady_, 0);
        c->last_public_seq.assign(steady_, 0);
        c->last_dm_seq.assign(steady_, 0);
        clients_.push_back(std::move(c));
    }
    if (o_.image_interval > 0) {
        const std::string jpeg = make_jpeg(o_.image_bytes, 7);
        if (jpeg.empty()) {
            std::cerr << "soak: built without libjpeg, no photos\n";
        } else {
            photo_ = std::make_shared<const std::string>(
                R"({"action":"file","channel":"lobby","message":"soak.jpg","bytes":")" +
                base64(jpeg) + "\"}");
        }
    }

    // Everyone connects and logs in.
    const auto t0 = Clock::now();
    for (auto& c : clients_) dial(*c);
    for (int i = 0; i < 300; ++i) {
        run_for(100ms);
        if (std::all_of(clients_.begin(), clients_.end(), [](auto& c) { return c->logged_in; })) {
            break;
        }
    }
    for (auto& c : clients_) {
        if (!c->logged_in) error(c->name + ": did not log in");
    }
    const std::int64_t start = now_ns();
    for (auto& c : clients_) {
        c->next_public = start + jitter(1.0 / std::max(o_.rate, 0.01));
        c->next_dm = start + jitter(1.0 / std::max(o_.dm_rate, 0.01));
        c->next_client_ping = start + jitter(10.0);
        c->churn_at = start + jitter(2.0);
    }
    next_photo_ = start + static_cast<std::int64_t>(1e9);
    sending_ = true;
    tick();

    // Mixed load, sampling the server every `sample_every` seconds.
    bj::array rss;
    std::int64_t rss_start = 0, rss_max = 0, rss_end = 0;
    const auto sample = [&](double t) {
        const ProcSample p = sample_process(o_.server_pid);
        if (rss.empty()) rss_start = p.rss_kib;
        rss_max = std::max(rss_max, p.rss_kib);
        rss_end = p.rss_kib;
        rss.push_back(bj::array{std::round(t * 10) / 10, p.rss_kib});
        return p;
    };
    const auto load_start = Clock::now();
    const auto load_end = load_start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(o_.duration));
    bool alive = process_alive(o_.server_pid);
    sample(0);
    auto next_sample = load_start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(o_.sample_every));
    while (Clock::now() < load_end && alive) {
        run_for(std::chrono::duration_cast<std::chrono::milliseconds>(
            std::min(next_sample, load_end) - Clock::now() + 1ms));
        alive = process_alive(o_.server_pid);
        if (Clock::now() >= next_sample) {
            const double t = std::chrono::duration<double>(Clock::now() - load_start).count();
            const ProcSample p = sample(t);
            if (o_.progress) {
                std::fprintf(stderr,
                             "soak: %6.0f s  RSS %7.1f MiB  public %llu  DMs %llu  photos %llu  "
                             "joins %llu  errors %llu\n",
                             t, static_cast<double>(p.rss_kib) / 1024.0,
                             static_cast<unsigned long long>(public_total_),
                             static_cast<unsigned long long>(dm_total_),
                             static_cast<unsigned long long>(images_total_),
                             static_cast<unsigned long long>(joins_),
                             static_cast<unsigned long long>(errors_));
            }
            next_sample += std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double>(o_.sample_every));
        }
    }
    const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
    sample(load_s);

    // Stop sending; wait for what is in flight.
    sending_ = false;
    const auto drain_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(o_.drain));
    while (alive && Clock::now() < drain_end && !all_delivered()) {
        run_for(100ms);
        alive = process_alive(o_.server_pid);
    }
    alive = alive && process_alive(o_.server_pid);
    sample(std::chrono::duration<double>(Clock::now() - load_start).count());

    // Count.
    std::uint64_t expected = 0, received = 0, lost = 0, duplicates = 0, pings = 0;
    for (std::size_t r = 0; r < steady_; ++r) {
        const SoakClient& c = *clients_[r];
        for (std::size_t s = 0; s < steady_; ++s) {
            const std::uint64_t want = public_sent_[s] + images_sent_[s] + dm_sent_[r][s];
            const std::uint64_t got = c.public_from[s] + c.images_from[s] + c.dm_from[s];
            expected += want;
            received += std::min(got, want);
            if (got < want) lost += want - got;
        }
        duplicates += c.duplicates;
        pings += c.pings;
    }
    for (auto& c : clients_) {
        c->closing = true;
        if (c->open) c->ws->async_close(websocket::close_code::normal, [](auto) {});
    }
    run_for(500ms);
    timer_.cancel();
    ioc_.stop();

    bj::object r;
    r["scenario"] = "soak";
    r["label"] = o_.label;
    r["duration_s"] = load_s;
    r["setup_s"] = std::chrono::duration<double>(load_start - t0).count();
    r["steady_clients"] = steady_;
    r["churning_clients"] = o_.churners;
    r["public_sent"] = public_total_;
    r["dm_sent"] = dm_total_;
    r["images_sent"] = images_total_;
    r["image_bytes"] = photo_ ? o_.image_bytes : 0;
    r["churn_joins"] = joins_;
    r["churn_leaves"] = leaves_;
    r["churn_messages"] = churn_messages_;
    r["client_pings"] = client_pings_;
    r["server_pings_received"] = pings;
    r["deliveries_expected"] = expected;
    r["deliveries_received"] = received;
    r["lost"] = lost;
    r["duplicates"] = duplicates;
    r["errors"] = errors_;
    bj::array samples;
    for (const auto& e : error_samples_) samples.push_back(bj::string(e));
    r["error_samples"] = std::move(samples);
    r["server_alive"] = alive;
    r["rss_start_kib"] = rss_start;
    r["rss_end_kib"] = rss_end;
    r["rss_max_kib"] = rss_max;
    r["rss_kib"] = std::move(rss);
    std::cout << "RESULT " << bj::serialize(r) << "\n";
    char line[512];
    std::snprintf(
        line, sizeof line,
        "soak: %.0f s, %zu steady + %zu churning clients; sent %llu public, %llu DMs, "
        "%llu photos; %llu/%llu deliveries, lost %llu, duplicates %llu, errors %llu; "
        "%llu joins; RSS %.1f -> %.1f MiB (max %.1f); server %s",
        load_s, steady_, o_.churners, static_cast<unsigned long long>(public_total_),
        static_cast<unsigned long long>(dm_total_), static_cast<unsigned long long>(images_total_),
        static_cast<unsigned long long>(received), static_cast<unsigned long long>(expected),
        static_cast<unsigned long long>(lost), static_cast<unsigned long long>(duplicates),
        static_cast<unsigned long long>(errors_), static_cast<unsigned long long>(joins_),
        static_cast<double>(rss_start) / 1024.0, static_cast<double>(rss_end) / 1024.0,
        static_cast<double>(rss_max) / 1024.0, alive ? "up" : "DEAD");
    std::cout << line << std::endl;
    return (lost == 0 && duplicates == 0 && errors_ == 0 && alive && expected > 0) ? 0 : 1;
}

}  // namespace

int run_soak(const SoakOptions& options) {
    Soak soak(options);
    return soak.run();
}

}  // namespace bench
