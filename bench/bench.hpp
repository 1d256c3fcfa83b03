#pragma once
// barertc_bench: a load generator that drives a running `barertc` over loopback with many
// WebSocket clients (Boost.Beast), and reads the server's CPU time and memory from /proc.
// See docs/performance.md for the scenarios and bench/run.sh for how they are run.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;
using Payload = std::shared_ptr<const std::string>;

// Monotonic nanoseconds (the clock that send timestamps inside messages are taken from).
inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

// ------------------------------------------------------------------------------------------
// util.cpp

// HS256 token for {"sub": sub} valid for an hour.
std::string make_jwt(std::string_view sub, std::string_view secret);

// A baseline JPEG of about `target_bytes` (photo-like: gradients plus grain), or empty when the
// bench was built without libjpeg.
std::string make_jpeg(std::size_t target_bytes, unsigned seed);

// What /proc says about a process (all zero when unavailable).
struct ProcSample {
    std::int64_t cpu_ns = 0;  // user + system, all threads
    std::int64_t rss_kib = 0;
    std::int64_t hwm_kib = 0;  // peak RSS
    std::int64_t threads = 0;
};
ProcSample sample_process(int pid);
// Seconds since the process started (from /proc/PID/stat and /proc/uptime), or -1.
double process_uptime(int pid);
// CPU time spent by the whole machine (all processes, all cores; from /proc/stat).
std::int64_t machine_busy_ns();
// This process's own CPU time (user + system, all threads).
std::int64_t self_cpu_ns();
// Raises RLIMIT_NOFILE to the hard limit; returns the new soft limit.
std::size_t raise_fd_limit();

// Nearest-rank percentile of an already sorted vector (0 when empty).
std::int64_t percentile(const std::vector<std::int64_t>& sorted, double q);

// ------------------------------------------------------------------------------------------
// loadgen.cpp

struct Config {
    std::uint16_t port = 0;
    std::string secret;
    std::size_t clients = 0;
    unsigned threads = 1;
    unsigned dials = 64;  // connections being set up at once, over all threads
    bool login = true;
    std::string channel = "lobby";
};

// State shared by every worker thread (written before the threads start, or atomics).
struct Shared {
    explicit Shared(Config c);
    Config config;
    // A who list naming every client has at least this many bytes (cheap pre-filter).
    std::size_t full_who_min_bytes = 0;
    // Chat messages whose send timestamp is at or after this count in phase 1.
    std::atomic<std::int64_t> phase1_start_ns{INT64_MAX};
    // Image senders: client index -> slot (or -1); send times by slot and sequence number.
    static constexpr std::size_t kMaxImagesPerSender = 4096;
    std::vector<int> image_slot_of;
    std::unique_ptr<std::atomic<std::int64_t>[]> image_sent_ns;
    std::size_t image_slots = 0;
    void set_image_senders(const std::vector<std::size_t>& indices);
};

// Per-worker counters; only the owning worker writes them, anyone may read.
struct alignas(64) Counters {
    std::atomic<std::uint64_t> connected{0};     // handshakes completed
    std::atomic<std::uint64_t> logged_in{0};     // first `me` received
    std::atomic<std::uint64_t> failed_dials{0};  // connect or handshake failed
    std::atomic<std::uint64_t> disconnects{0};   // open connections that ended
    std::atomic<std::uint64_t> chat{0};          // chat messages carrying a send timestamp
    std::atomic<std::uint64_t> images{0};        // image messages
    std::atomic<std::uint64_t> image_bytes{0};
    std::atomic<std::uint64_t> who{0};
    std::atomic<std::uint64_t> full_who{0};  // clients that have seen every user listed
    std::atomic<std::uint64_t> pings{0};
    std::atomic<std::uint64_t> other{0};  // echo, presence, ChatServer notices, ...
    std::atomic<std::uint64_t> frames{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> chat_sent{0};
    std::atomic<std::uint64_t> images_sent{0};
    std::atomic<std::int64_t> last_login_ns{0};
    std::atomic<std::int64_t> last_full_who_ns{0};
};

class Worker;

struct Client {
    Client(Worker& worker, std::size_t index);
    Worker& worker;
    std::size_t index;
    boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws;
    boost::beast::flat_buffer buffer;
    std::deque<Payload> outq;
    std::vector<std::uint32_t> images_seen;  // by image sender slot
    bool writing = false;
    bool open = false;
    bool logged_in = false;
    bool full_who = false;
    bool ended = false;
    bool holds_dial_slot = false;
};

// One thread with its own io_context and the clients whose index % threads == its id.
class Worker {
  public:
    Worker(Shared& shared, unsigned id, unsigned dial_slots);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void add_client(std::size_t index);  // before start()
    void start();
    // Closes every socket and ends the thread.
    void stop();

    // All of these post to the worker's thread.
    void dial_all();
    // Sends chat messages from `senders` (indices of this worker's clients) at `rate_each`
    // messages per second each, evenly spread, from `start_ns` until `end_ns`.
    void start_chat(std::vector<std::size_t> senders, double rate_each, std::int64_t start_ns,
                    std::int64_t end_ns);
    // Queues an image message on client `index` and records its send time.
    void send_image(std::size_t index, Payload message);

    Counters counters;
    // Read after stop(): latencies by phase, image latencies (ns).
    std::vector<std::int64_t> latencies[2];
    std::vector<std::int64_t> image_latencies;

  private:
    friend struct Client;
    Client* find(std::size_t index);
    void dial_next();
    void dial(Client& c);
    void on_open(Client& c);
    void release_slot(Client& c);
    void fail(Client& c, const boost::system::error_code& ec, const char* where);
    void do_read(Client& c);
    void on_frame(Client& c, std::string_view frame);
    void on_message(Client& c, std::string_view frame, std::int64_t now);
    void send(Client& c, Payload p);
    void do_write(Client& c);
    void chat_tick();
    void note_other(std::string_view frame);

    Shared& shared_;
    unsigned id_;
    unsigned dial_slots_;
    boost::asio::io_context ioc_{1};
    std::vector<std::unique_ptr<Client>> clients_;
    std::size_t next_dial_ = 0;
    unsigned dials_in_flight_ = 0;
    std::thread thread_;
    boost::asio::steady_timer chat_timer_{ioc_};
    std::vector<Client*> chat_senders_;
    std::int64_t chat_start_ns_ = 0;
    std::int64_t chat_end_ns_ = 0;
    double chat_period_ns_ = 0;
    std::uint64_t chat_n_ = 0;
    std::string chat_head_;
    std::vector<std::uint32_t> images_sent_by_slot_;
    unsigned errors_logged_ = 0;
    unsigned others_logged_ = 0;
};

// ------------------------------------------------------------------------------------------
// soak.cpp

struct SoakOptions {
    std::uint16_t port = 0;
    int server_pid = 0;
    std::string secret;
    double duration = 20;       // seconds of mixed load
    std::size_t steady = 12;    // clients connected all along (their deliveries are counted)
    std::size_t churners = 4;   // clients that keep leaving and coming back
    double rate = 2;            // public messages per second per steady client
    double dm_rate = 0.5;       // DMs per second per steady client
    double image_interval = 5;  // seconds between photos (0 = none)
    std::size_t image_bytes = 1024 * 1024;
    double sample_every = 5;  // seconds between RSS samples
    double drain = 15;        // seconds to wait for deliveries in flight at the end
    bool progress = false;    // a line on stderr per sample
    std::string label;
};

// Runs the soak scenario; prints a RESULT line and a line for people. Returns 0 when nothing
// was lost or duplicated, no error occurred and the server is still running, 1 otherwise.
int run_soak(const SoakOptions& options);

}  // namespace bench
