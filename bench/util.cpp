// Helpers of the load generator: JWTs, test JPEGs, /proc readings, percentiles.

#include "bench.hpp"

#include "auth/jwt.hpp"

#include <sys/resource.h>
#include <unistd.h>

#ifdef BARERTC_BENCH_JPEG
#include <jpeglib.h>
#include <cstdio>  // jpeglib.h needs FILE
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bench {

namespace {

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// The fields of /proc/PID/stat after the command name: fields[0] is field 3 (state).
std::vector<std::string> stat_fields(int pid) {
    const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
    std::vector<std::string> fields;
    const auto close = text.rfind(')');
    if (close == std::string::npos) return fields;
    std::istringstream in(text.substr(close + 1));
    for (std::string f; in >> f;) fields.push_back(f);
    return fields;
}

}  // namespace

std::string make_jwt(std::string_view sub, std::string_view secret) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    barertc::auth::Claims claims;
    claims.sub = std::string(sub);
    claims.iat = now - 10;
    claims.nbf = now - 10;
    claims.exp = now + 3600;
    return barertc::auth::sign(claims, secret);
}

#ifdef BARERTC_BENCH_JPEG
namespace {

// An 8-megapixel photo-like picture: smooth colour gradients plus grain of amplitude `grain`.
std::string encode_jpeg(unsigned width, unsigned height, int grain, unsigned seed) {
    std::vector<float> wave_x(width), wave_y(height);
    for (unsigned x = 0; x < width; ++x) wave_x[x] = std::sin(x * 0.0041f + seed);
    for (unsigned y = 0; y < height; ++y) wave_y[y] = std::cos(y * 0.0029f + seed * 0.7f);
    std::vector<unsigned char> row(width * 3);
    std::uint32_t rng = 0x9e3779b9u ^ seed;
    const auto noise = [&]() {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        return grain ? static_cast<int>(rng % static_cast<unsigned>(2 * grain + 1)) - grain : 0;
    };
    const auto clamp = [](float v) {
        return static_cast<unsigned char>(std::clamp(v, 0.0f, 255.0f));
    };

    jpeg_compress_struct cinfo{};
    jpeg_error_mgr jerr{};
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    unsigned char* out = nullptr;
    unsigned long out_size = 0;
    jpeg_mem_dest(&cinfo, &out, &out_size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 92, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    for (unsigned y = 0; y < height; ++y) {
        for (unsigned x = 0; x < width; ++x) {
            const float a = wave_x[x] * wave_y[y];
            const float b = wave_x[(x * 3 + y) % width];
            row[x * 3 + 0] = clamp(128 + 90 * a + noise());
            row[x * 3 + 1] = clamp(110 + 60 * b + 30 * a + noise());
            row[x * 3 + 2] = clamp(90 + 70 * wave_y[(y * 2 + x) % height] + noise());
        }
        JSAMPROW rows[1] = {row.data()};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    std::string result(reinterpret_cast<const char*>(out), out_size);
    std::free(out);
    return result;
}

}  // namespace

std::string make_jpeg(std::size_t target_bytes, unsigned seed) {
    // 3264 x 2448, a common phone camera size; the grain is searched to hit the target size.
    constexpr unsigned kWidth = 3264, kHeight = 2448;
    int lo = 0, hi = 48;
    std::string best = encode_jpeg(kWidth, kHeight, hi, seed);
    if (best.size() < target_bytes) return best;
    for (int i = 0; i < 6 && lo < hi; ++i) {
        const int mid = (lo + hi) / 2;
        std::string img = encode_jpeg(kWidth, kHeight, mid, seed);
        const bool big_enough = img.size() >= target_bytes;
        if (big_enough) {
            hi = mid;
            best = std::move(img);
        } else {
            lo = mid + 1;
        }
        if (big_enough && best.size() < target_bytes * 11 / 10) break;
    }
    return best;
}
#else
std::string make_jpeg(std::size_t, unsigned) {
    return {};
}
#endif

ProcSample sample_process(int pid) {
    ProcSample s;
    if (pid <= 0) return s;
    // Precise on-CPU time of every live thread...
    std::int64_t live_ns = 0;
    std::error_code ec;
    const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& entry : std::filesystem::directory_iterator(task_dir, ec)) {
        std::ifstream f(entry.path() / "schedstat");
        long long run_ns = 0;
        if (f >> run_ns) live_ns += run_ns;
    }
    // ... and the whole group's user + system time, which also counts threads that have exited
    // (in clock ticks, 10 ms).
    const auto fields = stat_fields(pid);
    std::int64_t group_ns = 0;
    if (fields.size() > 13) {
        const double tick_ns = 1e9 / static_cast<double>(sysconf(_SC_CLK_TCK));
        group_ns =
            static_cast<std::int64_t>((std::stod(fields[11]) + std::stod(fields[12])) * tick_ns);
    }
    s.cpu_ns = std::max(live_ns, group_ns);
    std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(status, line);) {
        const auto value = [&] { return std::atoll(line.c_str() + line.find(':') + 1); };
        if (line.starts_with("VmRSS:")) s.rss_kib = value();
        if (line.starts_with("VmHWM:")) s.hwm_kib = value();
        if (line.starts_with("Threads:")) s.threads = value();
    }
    return s;
}

double process_uptime(int pid) {
    const auto fields = stat_fields(pid);
    if (fields.size() <= 19) return -1;
    const double start_s = std::stod(fields[19]) / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::istringstream up(read_file("/proc/uptime"));
    double uptime = 0;
    if (!(up >> uptime)) return -1;
    return uptime - start_s;
}

std::int64_t machine_busy_ns() {
    std::istringstream in(read_file("/proc/stat"));
    std::string cpu;
    in >> cpu;
    if (cpu != "cpu") return 0;
    // user nice system idle iowait irq softirq steal
    long long v[8] = {};
    for (auto& x : v) in >> x;
    const long long busy = v[0] + v[1] + v[2] + v[5] + v[6];
    return static_cast<std::int64_t>(static_cast<double>(busy) * 1e9 /
                                     static_cast<double>(sysconf(_SC_CLK_TCK)));
}

std::int64_t self_cpu_ns() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const auto ns = [](const timeval& tv) {
        return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 +
               static_cast<std::int64_t>(tv.tv_usec) * 1000;
    };
    return ns(ru.ru_utime) + ns(ru.ru_stime);
}

std::size_t raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return static_cast<std::size_t>(rl.rlim_cur);
}

std::int64_t percentile(const std::vector<std::int64_t>& sorted, double q) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

}  // namespace bench
