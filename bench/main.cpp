// barertc_bench: runs one load scenario against a running server and prints one result line
// (`RESULT {json}`) and one line for people; `summarize` prints the medians of such lines.
//
//   barertc_bench fanout --port P --server-pid PID --secret S [--clients 200 --senders 20 ...]
//   barertc_bench storm  --port P --server-pid PID --secret S [--clients 2000 ...]
//   barertc_bench idle   --port P --server-pid PID --secret S [--clients 2000 --hold 10 ...]
//   barertc_bench images --port P --server-pid PID --secret S [--clients 200 ...]
//   barertc_bench soak   --port P --server-pid PID --secret S [--duration 20 --clients 12 ...]
//   barertc_bench summarize results.jsonl

#include "bench.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>

namespace bench {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

// ------------------------------------------------------------------------------------------
// Command line

class Args {
  public:
    Args(int argc, char** argv, int first) {
        for (int i = first; i < argc; ++i) {
            std::string a = argv[i];
            if (!a.starts_with("--")) throw std::runtime_error("unexpected argument " + a);
            a = a.substr(2);
            if (a == "no-login" || a == "progress") {
                values_[a] = "1";
            } else if (i + 1 < argc) {
                values_[a] = argv[++i];
            } else {
                throw std::runtime_error("--" + a + " needs a value");
            }
        }
    }
    std::string str(const std::string& key, std::string fallback = {}) {
        used_.push_back(key);
        const auto it = values_.find(key);
        return it == values_.end() ? fallback : it->second;
    }
    double num(const std::string& key, double fallback) {
        const std::string v = str(key);
        return v.empty() ? fallback : std::stod(v);
    }
    bool flag(const std::string& key) { return !str(key).empty(); }
    void check_all_used() const {
        for (const auto& [k, v] : values_) {
            if (std::find(used_.begin(), used_.end(), k) == used_.end()) {
                throw std::runtime_error("unknown option --" + k);
            }
        }
    }

  private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> used_;
};

// ------------------------------------------------------------------------------------------
// A set of workers and their clients

struct Totals {
    std::uint64_t connected = 0, logged_in = 0, failed_dials = 0, disconnects = 0, chat = 0,
                  images = 0, image_bytes = 0, who = 0, full_who = 0, pings = 0, other = 0,
                  frames = 0, bytes = 0, chat_sent = 0, images_sent = 0;
    std::int64_t last_login_ns = 0, last_full_who_ns = 0;
};

class Fleet {
  public:
    Fleet(Config config, int server_pid) : shared_(std::move(config)), server_pid_(server_pid) {
        const auto& c = shared_.config;
        const unsigned slots = std::max(1u, c.dials / c.threads);
        for (unsigned t = 0; t < c.threads; ++t) {
            workers_.push_back(std::make_unique<Worker>(shared_, t, slots));
        }
    }

    Shared& shared() { return shared_; }
    Worker& owner(std::size_t index) { return *workers_[index % workers_.size()]; }

    void start() {
        for (std::size_t i = 0; i < shared_.config.clients; ++i) owner(i).add_client(i);
        for (auto& w : workers_) w->start();
    }
    void stop() {
        for (auto& w : workers_) w->stop();
    }

    Totals totals() const {
        Totals t;
        for (const auto& w : workers_) {
            const auto& c = w->counters;
            const auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
            t.connected += get(c.connected);
            t.logged_in += get(c.logged_in);
            t.failed_dials += get(c.failed_dials);
            t.disconnects += get(c.disconnects);
            t.chat += get(c.chat);
            t.images += get(c.images);
            t.image_bytes += get(c.image_bytes);
            t.who += get(c.who);
            t.full_who += get(c.full_who);
            t.pings += get(c.pings);
            t.other += get(c.other);
            t.frames += get(c.frames);
            t.bytes += get(c.bytes);
            t.chat_sent += get(c.chat_sent);
            t.images_sent += get(c.images_sent);
            t.last_login_ns = std::max(t.last_login_ns, get(c.last_login_ns));
            t.last_full_who_ns = std::max(t.last_full_who_ns, get(c.last_full_who_ns));
        }
        return t;
    }

    // Polls `done` every 2 ms until it holds or `timeout` passes.
    bool wait_until(const std::function<bool(const Totals&)>& done,
                    std::chrono::milliseconds timeout) const {
        const auto deadline = Clock::now() + timeout;
        while (!done(totals())) {
            if (Clock::now() >= deadline) return false;
            std::this_thread::sleep_for(2ms);
        }
        return true;
    }

    void dial_all() {
        for (auto& w : workers_) w->dial_all();
    }

    // Dials every client (and logs it in when configured); returns when all are in or failed.
    bool connect_all(std::chrono::milliseconds timeout) {
        dial_all();
        const std::size_t n = shared_.config.clients;
        const bool login = shared_.config.login;
        return wait_until(
            [&](const Totals& t) {
                const auto in = login ? t.logged_in : t.connected;
                return in + t.failed_dials + t.disconnects >= n;
            },
            timeout);
    }

    // Latencies (ns) of both phases and of images, sorted; call after stop().
    std::vector<std::int64_t> latencies(int phase) const {
        std::vector<std::int64_t> all;
        for (const auto& w : workers_) {
            all.insert(all.end(), w->latencies[phase].begin(), w->latencies[phase].end());
        }
        std::sort(all.begin(), all.end());
        return all;
    }
    std::vector<std::int64_t> image_latencies() const {
        std::vector<std::int64_t> all;
        for (const auto& w : workers_) {
            all.insert(all.end(), w->image_latencies.begin(), w->image_latencies.end());
        }
        std::sort(all.begin(), all.end());
        return all;
    }

    int server_pid() const { return server_pid_; }

  private:
    Shared shared_;
    std::vector<std::unique_ptr<Worker>> workers_;
    int server_pid_;
};

// Server and generator readings at one moment.
struct Snapshot {
    std::int64_t wall_ns = 0;
    ProcSample server;
    std::int64_t gen_cpu_ns = 0;
    std::int64_t machine_ns = 0;
    double server_uptime = -1;
};

Snapshot snap(int pid) {
    Snapshot s;
    s.wall_ns = now_ns();
    s.server = sample_process(pid);
    s.gen_cpu_ns = self_cpu_ns();
    s.machine_ns = machine_busy_ns();
    s.server_uptime = process_uptime(pid);
    return s;
}

double secs(std::int64_t ns) {
    return static_cast<double>(ns) / 1e9;
}
double ms(std::int64_t ns) {
    return static_cast<double>(ns) / 1e6;
}
double mib(std::int64_t kib) {
    return static_cast<double>(kib) / 1024.0;
}

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

Config base_config(Args& args, std::size_t default_clients) {
    Config c;
    c.port = static_cast<std::uint16_t>(args.num("port", 0));
    if (c.port == 0) throw std::runtime_error("--port is required");
    c.secret = args.str("secret", "bench-secret");
    c.clients = static_cast<std::size_t>(args.num("clients", static_cast<double>(default_clients)));
    c.threads = static_cast<unsigned>(std::max(1.0, args.num("threads", 1)));
    c.dials = static_cast<unsigned>(std::max(1.0, args.num("dials", 64)));
    c.login = !args.flag("no-login");
    c.channel = args.str("channel", "lobby");
    return c;
}

// JSON with numbers as people write them (Boost.JSON would print 3.184E0).
std::string to_json(const bj::value& v) {
    if (v.is_double()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f", v.get_double());
        std::string s = buf;
        while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
            const bool dot = s.back() == '.';
            s.pop_back();
            if (dot) break;
        }
        return s == "-0" ? "0" : s;
    }
    if (v.is_object()) {
        std::string out = "{";
        for (const auto& [k, x] : v.get_object()) {
            if (out.size() > 1) out += ',';
            out += bj::serialize(bj::string(k)) + ":" + to_json(x);
        }
        return out + "}";
    }
    if (v.is_array()) {
        std::string out = "[";
        for (const auto& x : v.get_array()) {
            if (out.size() > 1) out += ',';
            out += to_json(x);
        }
        return out + "]";
    }
    return bj::serialize(v);
}

void emit(const bj::object& r, const std::string& human) {
    std::cout << "RESULT " << to_json(r) << "\n" << human << std::endl;
}

// Common fields: who ran, with how much, and what the generator itself cost.
void add_common(bj::object& r, const std::string& scenario, Args& args, const Config& c,
                const Totals& t, const Snapshot& a, const Snapshot& b) {
    r["scenario"] = scenario;
    r["label"] = args.str("label", scenario);
    r["clients"] = c.clients;
    r["threads"] = c.threads;
    r["failed_dials"] = t.failed_dials;
    r["disconnects"] = t.disconnects;
    r["server_cpu_s"] = secs(b.server.cpu_ns - a.server.cpu_ns);
    r["gen_cpu_s"] = secs(b.gen_cpu_ns - a.gen_cpu_ns);
    r["window_s"] = secs(b.wall_ns - a.wall_ns);
    // CPU that other processes on the machine used meanwhile (they disturb the measurement).
    r["others_cpu_s"] =
        std::max(0.0, secs((b.machine_ns - a.machine_ns) - (b.server.cpu_ns - a.server.cpu_ns) -
                           (b.gen_cpu_ns - a.gen_cpu_ns)));
    r["server_rss_mib"] = mib(b.server.rss_kib);
    r["server_peak_rss_mib"] = mib(b.server.hwm_kib);
    r["server_uptime_end_s"] = b.server_uptime;
}

// Waits until the server has been up `seconds` (the reboot grace of protocol.md §19).
void wait_for_uptime(int pid, double seconds) {
    if (pid <= 0 || seconds <= 0) return;
    for (;;) {
        const double up = process_uptime(pid);
        if (up < 0 || up >= seconds) return;
        std::this_thread::sleep_for(std::chrono::duration<double>(std::min(0.05, seconds - up)));
    }
}

// Evenly spread client indices, skipping `skip`.
std::vector<std::size_t> spread(std::size_t count, std::size_t n,
                                const std::vector<std::size_t>& skip = {}) {
    std::vector<std::size_t> out;
    if (n == 0) return out;
    for (std::size_t k = 0; k < count && k < n; ++k) {
        std::size_t i = k * n / count;
        while (std::find(skip.begin(), skip.end(), i) != skip.end() ||
               std::find(out.begin(), out.end(), i) != out.end()) {
            i = (i + 1) % n;
        }
        out.push_back(i);
    }
    return out;
}

void start_chat(Fleet& fleet, const std::vector<std::size_t>& senders, double rate,
                std::int64_t start, std::int64_t end, unsigned threads) {
    std::vector<std::vector<std::size_t>> by_worker(threads);
    for (auto i : senders) by_worker[i % threads].push_back(i);
    for (unsigned w = 0; w < threads; ++w) {
        fleet.owner(w).start_chat(by_worker[w], rate, start, end);
    }
}

// ------------------------------------------------------------------------------------------
// 1. Fan-out

int fanout(Args& args) {
    Config c = base_config(args, 200);
    const auto senders_n = static_cast<std::size_t>(args.num("senders", 20));
    const double rate = args.num("rate", 10);
    const double duration = args.num("duration", 10);
    const double drain = args.num("drain", 5);
    const double after = args.num("start-after-uptime", 0);
    const int pid = static_cast<int>(args.num("server-pid", 0));
    const std::string label = args.str("label", "fanout");
    args.check_all_used();

    Fleet fleet(c, pid);
    fleet.start();
    if (!fleet.connect_all(120s)) std::cerr << "fanout: not every client got in\n";
    const Totals in = fleet.totals();
    wait_for_uptime(pid, after);
    std::this_thread::sleep_for(300ms);  // let the login bursts finish

    const auto senders = spread(senders_n, c.clients);
    const Totals t0 = fleet.totals();
    const Snapshot a = snap(pid);
    const std::int64_t start = a.wall_ns + 5'000'000;
    const std::int64_t end = start + static_cast<std::int64_t>(duration * 1e9);
    start_chat(fleet, senders, rate, start, end, c.threads);
    std::this_thread::sleep_until(Clock::time_point(std::chrono::nanoseconds(end)));
    // Every client should receive every message (the senders get their own copy too).
    const std::uint64_t receivers = in.logged_in;
    fleet.wait_until([&](const Totals& t) { return t.chat >= t.chat_sent * receivers; },
                     std::chrono::milliseconds(static_cast<long>(drain * 1000)));
    const Snapshot b = snap(pid);
    const Totals t1 = fleet.totals();
    fleet.stop();

    const auto lat = fleet.latencies(0);
    const std::uint64_t sent = t1.chat_sent;
    const std::uint64_t expected = sent * receivers;
    const std::uint64_t delivered = t1.chat;
    const double server_cpu = secs(b.server.cpu_ns - a.server.cpu_ns);
    const double gen_cpu = secs(b.gen_cpu_ns - a.gen_cpu_ns);
    const double per_s = static_cast<double>(delivered) / duration;

    bj::object r;
    add_common(r, "fanout", args, c, t1, a, b);
    r["logged_in"] = in.logged_in;
    r["senders"] = senders.size();
    r["rate"] = rate;
    r["duration_s"] = duration;
    r["sent"] = sent;
    r["expected"] = expected;
    r["delivered"] = delivered;
    r["delivery_ratio"] = expected ? static_cast<double>(delivered) / expected : 0.0;
    r["deliveries_per_s"] = per_s;
    r["p50_ms"] = ms(percentile(lat, 0.50));
    r["p99_ms"] = ms(percentile(lat, 0.99));
    r["p999_ms"] = ms(percentile(lat, 0.999));
    r["max_ms"] = ms(lat.empty() ? 0 : lat.back());
    r["server_us_per_delivery"] = delivered ? server_cpu * 1e6 / delivered : 0.0;
    r["server_cores"] = server_cpu / duration;
    r["gen_us_per_delivery"] = delivered ? gen_cpu * 1e6 / delivered : 0.0;
    r["who_frames"] = t1.who - t0.who;
    r["other_frames"] = t1.other - t0.other;
    emit(r,
         label + ": " + std::to_string(c.clients) + " clients, " + std::to_string(senders.size()) +
             " senders x " + fmt("%g", rate) + "/s x " + fmt("%g", duration) + " s: delivered " +
             fmt("%.2f", 100.0 * r["delivery_ratio"].as_double()) + "% (" +
             std::to_string(delivered) + "/" + std::to_string(expected) + "), " +
             fmt("%.0f", per_s) + " deliveries/s, latency p50 " +
             fmt("%.3f", r["p50_ms"].as_double()) + " ms p99 " +
             fmt("%.3f", r["p99_ms"].as_double()) + " ms p999 " +
             fmt("%.3f", r["p999_ms"].as_double()) + " ms; server CPU " + fmt("%.2f", server_cpu) +
             " s = " + fmt("%.2f", r["server_us_per_delivery"].as_double()) +
             " us/delivery; generator CPU " + fmt("%.2f", gen_cpu) +
             " s = " + fmt("%.2f", r["gen_us_per_delivery"].as_double()) + " us/delivery");
    return 0;
}

// ------------------------------------------------------------------------------------------
// 2. Join storm

int storm(Args& args) {
    Config c = base_config(args, 2000);
    const int pid = static_cast<int>(args.num("server-pid", 0));
    // Who lists start 15 s after the server started (protocol.md §19); presence at 30 s.
    const double after = args.num("start-after-uptime", 16.5);
    const double timeout = args.num("timeout", 60);
    const std::string label = args.str("label", "storm");
    args.check_all_used();
    if (!c.login) throw std::runtime_error("storm needs logins");

    Fleet fleet(c, pid);
    fleet.start();
    wait_for_uptime(pid, after);
    const Snapshot a = snap(pid);
    fleet.dial_all();
    const bool complete = fleet.wait_until(
        [&](const Totals& t) { return t.full_who + t.failed_dials + t.disconnects >= c.clients; },
        std::chrono::milliseconds(static_cast<long>(timeout * 1000)));
    const Snapshot b = snap(pid);
    const Totals t = fleet.totals();
    fleet.stop();

    const double login_s = t.last_login_ns ? secs(t.last_login_ns - a.wall_ns) : -1;
    const bool all = t.full_who == c.clients;
    const double full_s = all ? secs(t.last_full_who_ns - a.wall_ns) : -1;

    bj::object r;
    add_common(r, "storm", args, c, t, a, b);
    r["dials"] = c.dials;
    r["complete"] = complete;
    r["start_uptime_s"] = a.server_uptime;
    r["logged_in"] = t.logged_in;
    r["login_s"] = login_s;
    r["full_who_clients"] = t.full_who;
    r["full_who_s"] = full_s;
    r["who_frames"] = t.who;
    r["received_mib"] = static_cast<double>(t.bytes) / (1024.0 * 1024.0);
    r["server_rss_per_conn_kib"] =
        t.logged_in ? static_cast<double>(b.server.rss_kib - a.server.rss_kib) / t.logged_in : 0.0;
    emit(r, label + ": " + std::to_string(c.clients) + " clients, " + std::to_string(c.dials) +
                " concurrent dials, server up " + fmt("%.1f", a.server_uptime) +
                " s: all logged in after " + fmt("%.3f", login_s) + " s, " +
                std::to_string(t.full_who) + " saw the full who list, the last after " +
                (all ? fmt("%.3f", full_s) + " s" : std::string("(never)")) + "; " +
                std::to_string(t.disconnects) + " disconnects, " + std::to_string(t.failed_dials) +
                " failed dials; " + std::to_string(t.who) + " who lists (" +
                fmt("%.0f", r["received_mib"].as_double()) + " MiB received); server CPU " +
                fmt("%.2f", r["server_cpu_s"].as_double()) + " s, generator CPU " +
                fmt("%.2f", r["gen_cpu_s"].as_double()) + " s");
    return all ? 0 : 1;
}

// ------------------------------------------------------------------------------------------
// 3. Idle

int idle(Args& args) {
    Config c = base_config(args, 2000);
    const int pid = static_cast<int>(args.num("server-pid", 0));
    const double hold = args.num("hold", 10);
    const std::string label = args.str("label", "idle");
    args.check_all_used();

    Fleet fleet(c, pid);
    fleet.start();
    std::this_thread::sleep_for(200ms);
    const Snapshot base = snap(pid);
    fleet.connect_all(300s);
    const std::int64_t connected_ns = now_ns();
    std::this_thread::sleep_for(500ms);  // login bursts out of the way
    const Snapshot a = snap(pid);
    const Totals ta = fleet.totals();
    std::this_thread::sleep_for(std::chrono::duration<double>(hold));
    const Snapshot b = snap(pid);
    const Totals t = fleet.totals();
    fleet.stop();

    const std::uint64_t held = (c.login ? t.logged_in : t.connected) - t.disconnects;
    const double per_conn_kib =
        held ? static_cast<double>(b.server.rss_kib - base.server.rss_kib) / held : 0.0;
    const double hold_cpu = secs(b.server.cpu_ns - a.server.cpu_ns);

    bj::object r;
    add_common(r, "idle", args, c, t, a, b);
    r["login"] = c.login;
    r["held"] = held;
    r["hold_s"] = hold;
    r["connect_s"] = secs(connected_ns - base.wall_ns);
    r["connect_server_cpu_s"] = secs(a.server.cpu_ns - base.server.cpu_ns);
    r["server_rss_base_mib"] = mib(base.server.rss_kib);
    r["server_rss_per_conn_kib"] = per_conn_kib;
    r["server_cores_hold"] = hold_cpu / secs(b.wall_ns - a.wall_ns);
    r["pings"] = t.pings - ta.pings;
    r["who_frames"] = t.who;
    emit(r, label + ": " + std::to_string(held) + (c.login ? " logged-in" : " open") +
                " connections held " + fmt("%g", hold) + " s: server RSS " +
                fmt("%.1f", mib(base.server.rss_kib)) + " -> " +
                fmt("%.1f", mib(b.server.rss_kib)) + " MiB = " + fmt("%.2f", per_conn_kib) +
                " KiB/connection; server CPU while holding " + fmt("%.3f", hold_cpu) + " s (" +
                fmt("%.1f", 100 * r["server_cores_hold"].as_double()) + "% of a core, " +
                std::to_string(t.pings - ta.pings) + " pings); connecting took " +
                fmt("%.2f", r["connect_s"].as_double()) + " s and " +
                fmt("%.2f", r["connect_server_cpu_s"].as_double()) + " s server CPU; " +
                std::to_string(t.disconnects) + " disconnects, " + std::to_string(t.failed_dials) +
                " failed dials");
    return 0;
}

// ------------------------------------------------------------------------------------------
// 4. Images while chatting

std::string file_message(const std::string& jpeg, unsigned n, bool as_array) {
    std::string m = R"({"action":"file","channel":"lobby","message":"photo)" + std::to_string(n) +
                    R"(.jpg","bytes":)";
    if (as_array) {
        // What the browser page sends: a JSON array of byte values.
        m.reserve(m.size() + jpeg.size() * 4 + 4);
        m += '[';
        for (std::size_t i = 0; i < jpeg.size(); ++i) {
            if (i) m += ',';
            m += std::to_string(static_cast<unsigned char>(jpeg[i]));
        }
        m += ']';
    } else {
        static constexpr char kB64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        m += '"';
        std::size_t i = 0;
        const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(jpeg[k]); };
        for (; i + 2 < jpeg.size(); i += 3) {
            const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
            m += kB64[(v >> 18) & 63];
            m += kB64[(v >> 12) & 63];
            m += kB64[(v >> 6) & 63];
            m += kB64[v & 63];
        }
        if (jpeg.size() - i == 1) {
            const unsigned v = byte(i) << 16;
            m += kB64[(v >> 18) & 63];
            m += kB64[(v >> 12) & 63];
            m += "==";
        } else if (jpeg.size() - i == 2) {
            const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
            m += kB64[(v >> 18) & 63];
            m += kB64[(v >> 12) & 63];
            m += kB64[(v >> 6) & 63];
            m += '=';
        }
        m += '"';
    }
    m += '}';
    return m;
}

int images(Args& args) {
    Config c = base_config(args, 200);
    const int pid = static_cast<int>(args.num("server-pid", 0));
    const auto senders_n = static_cast<std::size_t>(args.num("senders", 20));
    const double rate = args.num("rate", 10);
    const double duration = args.num("duration", 10);  // each phase
    const auto image_senders_n = static_cast<std::size_t>(args.num("image-senders", 4));
    const double interval = args.num("image-interval", 1.0);
    const bool as_array = args.str("image-encoding", "array") == "array";
    const double drain = args.num("drain", 10);
    const std::string label = args.str("label", "images");
    args.check_all_used();

    // 1, 2 and 3 MB photos.
    std::vector<Payload> photos;
    std::vector<std::size_t> photo_bytes;
    for (unsigned k = 0; k < 3; ++k) {
        const std::string jpeg = make_jpeg((k + 1) * 1000 * 1000, k + 1);
        if (jpeg.empty()) throw std::runtime_error("built without libjpeg: no images");
        photo_bytes.push_back(jpeg.size());
        photos.push_back(std::make_shared<const std::string>(file_message(jpeg, k, as_array)));
    }

    Fleet fleet(c, pid);
    const auto chat_senders = spread(senders_n, c.clients);
    const auto image_senders = spread(image_senders_n, c.clients, chat_senders);
    fleet.shared().set_image_senders(image_senders);
    fleet.start();
    if (!fleet.connect_all(120s)) std::cerr << "images: not every client got in\n";
    const Totals in = fleet.totals();
    std::this_thread::sleep_for(300ms);

    const Snapshot a = snap(pid);
    const std::int64_t start = a.wall_ns + 5'000'000;
    const std::int64_t mid = start + static_cast<std::int64_t>(duration * 1e9);
    const std::int64_t end = mid + static_cast<std::int64_t>(duration * 1e9);
    start_chat(fleet, chat_senders, rate, start, end, c.threads);
    std::this_thread::sleep_until(Clock::time_point(std::chrono::nanoseconds(mid)));
    const Snapshot m = snap(pid);
    fleet.shared().phase1_start_ns.store(m.wall_ns);
    // Phase 2: one image every `interval` seconds, senders and photos in rotation.
    unsigned n = 0;
    for (std::int64_t next = m.wall_ns; next < end;
         next += static_cast<std::int64_t>(interval * 1e9), ++n) {
        std::this_thread::sleep_until(Clock::time_point(std::chrono::nanoseconds(next)));
        const std::size_t who = image_senders[n % image_senders.size()];
        fleet.owner(who).send_image(who, photos[n % photos.size()]);
    }
    std::this_thread::sleep_until(Clock::time_point(std::chrono::nanoseconds(end)));
    const std::uint64_t receivers = in.logged_in;
    fleet.wait_until(
        [&](const Totals& t) {
            return t.chat >= t.chat_sent * receivers && t.images >= t.images_sent * receivers;
        },
        std::chrono::milliseconds(static_cast<long>(drain * 1000)));
    const Snapshot b = snap(pid);
    const Totals t = fleet.totals();
    fleet.stop();

    const auto base_lat = fleet.latencies(0);
    const auto img_lat = fleet.latencies(1);
    const auto photo_lat = fleet.image_latencies();
    bj::object r;
    add_common(r, "images", args, c, t, a, b);
    r["senders"] = chat_senders.size();
    r["rate"] = rate;
    r["phase_s"] = duration;
    r["image_encoding"] = as_array ? "array" : "base64";
    bj::array sizes;
    for (auto s : photo_bytes) sizes.push_back(s);
    r["photo_bytes"] = std::move(sizes);
    r["images_sent"] = t.images_sent;
    r["image_deliveries"] = t.images;
    r["image_frame_bytes"] = t.images ? t.image_bytes / t.images : 0;
    r["image_expected"] = t.images_sent * receivers;
    r["image_p50_ms"] = ms(percentile(photo_lat, 0.50));
    r["image_p99_ms"] = ms(percentile(photo_lat, 0.99));
    r["chat_expected"] = t.chat_sent * receivers;
    r["chat_delivered"] = t.chat;
    r["chat_delivery_ratio"] =
        t.chat_sent ? static_cast<double>(t.chat) / (t.chat_sent * receivers) : 0.0;
    r["base_p50_ms"] = ms(percentile(base_lat, 0.50));
    r["base_p99_ms"] = ms(percentile(base_lat, 0.99));
    r["base_p999_ms"] = ms(percentile(base_lat, 0.999));
    r["img_p50_ms"] = ms(percentile(img_lat, 0.50));
    r["img_p99_ms"] = ms(percentile(img_lat, 0.99));
    r["img_p999_ms"] = ms(percentile(img_lat, 0.999));
    r["server_cpu_chat_only_s"] = secs(m.server.cpu_ns - a.server.cpu_ns);
    r["server_cpu_with_images_s"] = secs(b.server.cpu_ns - m.server.cpu_ns);
    emit(r, label + ": " + std::to_string(c.clients) + " clients, " +
                std::to_string(chat_senders.size()) + " senders x " + fmt("%g", rate) +
                "/s; chat latency p50/p99/p999 " + fmt("%.3f", r["base_p50_ms"].as_double()) + "/" +
                fmt("%.3f", r["base_p99_ms"].as_double()) + "/" +
                fmt("%.3f", r["base_p999_ms"].as_double()) + " ms without images, " +
                fmt("%.3f", r["img_p50_ms"].as_double()) + "/" +
                fmt("%.3f", r["img_p99_ms"].as_double()) + "/" +
                fmt("%.3f", r["img_p999_ms"].as_double()) + " ms with " +
                std::to_string(t.images_sent) + " images (" + std::to_string(t.images) + "/" +
                std::to_string(t.images_sent * receivers) + " delivered, image latency p50 " +
                fmt("%.0f", r["image_p50_ms"].as_double()) + " ms p99 " +
                fmt("%.0f", r["image_p99_ms"].as_double()) + " ms); chat delivered " +
                fmt("%.2f", 100 * r["chat_delivery_ratio"].as_double()) + "%; server CPU " +
                fmt("%.2f", r["server_cpu_chat_only_s"].as_double()) + " s then " +
                fmt("%.2f", r["server_cpu_with_images_s"].as_double()) + " s");
    return 0;
}

// ------------------------------------------------------------------------------------------
// summarize: medians per label

int summarize(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<std::string> order;
    std::map<std::string, std::vector<bj::object>> runs;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("RESULT ")) line = line.substr(7);
        if (!line.starts_with("{")) continue;
        auto v = bj::parse(line);
        if (!v.is_object()) continue;
        auto& o = v.as_object();
        const std::string label =
            o.contains("label") ? std::string(o["label"].as_string()) : std::string("?");
        if (!runs.count(label)) order.push_back(label);
        runs[label].push_back(std::move(o));
    }
    for (const auto& label : order) {
        const auto& list = runs[label];
        bj::object med;
        med["label"] = label;
        med["runs"] = list.size();
        for (const auto& [key, first] : list.front()) {
            if (!first.is_number()) {
                if (key != "label") med[key] = first;
                continue;
            }
            std::vector<double> vals;
            for (const auto& o : list) {
                if (const auto* x = o.if_contains(key); x && x->is_number()) {
                    vals.push_back(x->to_number<double>());
                }
            }
            std::sort(vals.begin(), vals.end());
            // The middle run; for an even count, the lower of the two middle ones.
            med[key] = vals[(vals.size() - 1) / 2];
        }
        std::cout << "MEDIAN " << to_json(med) << "\n";
    }
    return 0;
}

// ------------------------------------------------------------------------------------------
// 5. Soak: mixed load for a given time (bench/soak.cpp)

int soak(Args& args) {
    SoakOptions o;
    o.port = static_cast<std::uint16_t>(args.num("port", 0));
    o.server_pid = static_cast<int>(args.num("server-pid", 0));
    o.secret = args.str("secret");
    o.duration = args.num("duration", o.duration);
    o.steady = static_cast<std::size_t>(args.num("clients", static_cast<double>(o.steady)));
    o.churners = static_cast<std::size_t>(args.num("churners", static_cast<double>(o.churners)));
    o.rate = args.num("rate", o.rate);
    o.dm_rate = args.num("dm-rate", o.dm_rate);
    o.image_interval = args.num("image-interval", o.image_interval);
    o.image_bytes =
        static_cast<std::size_t>(args.num("image-bytes", static_cast<double>(o.image_bytes)));
    o.sample_every = args.num("sample-every", o.sample_every);
    o.drain = args.num("drain", o.drain);
    o.progress = args.flag("progress");
    o.label = args.str("label", "soak");
    args.num("threads", 1);  // bench/run.sh passes it; the soak runs on one thread
    args.check_all_used();
    if (!o.port || !o.server_pid || o.secret.empty()) {
        throw std::runtime_error("soak needs --port, --server-pid and --secret");
    }
    if (o.steady < 2) throw std::runtime_error("soak needs at least 2 --clients");
    return run_soak(o);
}

void usage() {
    std::cerr << "usage: barertc_bench fanout|storm|idle|images|soak --port P [--server-pid PID]\n"
                 "                     [--secret S] [--clients N] [--threads T] [--dials 64]\n"
                 "                     [--label NAME] [scenario options, see bench/run.sh]\n"
                 "       barertc_bench summarize FILE\n";
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
    using namespace bench;
    if (argc < 2) {
        usage();
        return 2;
    }
    const std::string scenario = argv[1];
    try {
        if (scenario == "summarize") {
            if (argc != 3) throw std::runtime_error("summarize needs a file");
            return summarize(argv[2]);
        }
        raise_fd_limit();
        Args args(argc, argv, 2);
        if (scenario == "fanout") return fanout(args);
        if (scenario == "storm") return storm(args);
        if (scenario == "idle") return idle(args);
        if (scenario == "images") return images(args);
        if (scenario == "soak") return soak(args);
        usage();
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "barertc_bench: " << e.what() << "\n";
        return 2;
    }
}
