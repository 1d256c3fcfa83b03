#include "web/static_files.hpp"

#include <spdlog/spdlog.h>
#include <boost/beast/http/field.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

namespace barertc::web {

namespace fs = std::filesystem;
using net::http::status;

namespace {

constexpr std::string_view kNotFound = "404 page not found\n";
constexpr std::string_view kText = "text/plain; charset=utf-8";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes one path segment; nothing on a malformed escape.
std::optional<std::string> decode_segment(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) return std::nullopt;
        const int hi = hex_value(in[i + 1]);
        const int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

bool is_within(const fs::path& root, const fs::path& p) {
    auto r = root.begin();
    auto q = p.begin();
    for (; r != root.end(); ++r, ++q) {
        if (r->empty()) continue;  // trailing separator of the root
        if (q == p.end() || *r != *q) return false;
    }
    return true;
}

std::string http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

std::optional<std::time_t> parse_http_date(std::string_view s) {
    std::tm tm{};
    std::istringstream in{std::string(s)};
    in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
    if (in.fail()) return std::nullopt;
    return timegm(&tm);
}

std::time_t to_time_t(fs::file_time_type ft) {
    const auto sys = std::chrono::file_clock::to_sys(ft);
    return std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::seconds>(sys));
}

}  // namespace

StaticFiles::StaticFiles(fs::path root) {
    std::error_code ec;
    auto canonical = fs::canonical(root, ec);
    root_ = ec ? fs::absolute(root, ec) : std::move(canonical);
    if (fs::is_regular_file(root_ / "static" / "app.js", ec)) {
        spdlog::info("serving the chat page from {}", root_.string());
    } else {
        spdlog::warn(
            "the chat page is not built ({} has no static/app.js): run "
            "`npm ci && npm run build` in web/",
            root_.string());
    }
}

fs::path StaticFiles::default_root() {
    std::error_code ec;
    if (fs::is_directory("dist", ec)) return fs::absolute("dist", ec);
#ifdef BARERTC_WEB_DIST
    if (fs::is_directory(BARERTC_WEB_DIST, ec)) return fs::path(BARERTC_WEB_DIST);
#endif
    return fs::absolute("dist", ec);
}

std::optional<fs::path> resolve_static_path(const fs::path& root, std::string_view path) {
    if (path.empty() || path.front() != '/') return std::nullopt;
    fs::path rel;
    std::size_t i = 1;
    while (i <= path.size()) {
        const auto slash = path.find('/', i);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        const auto raw = path.substr(i, end - i);
        if (!raw.empty()) {
            const auto seg = decode_segment(raw);
            // No parent or current-folder segments, no hidden files, no encoded separators or
            // NUL bytes: each URL segment must be exactly one plain file-name component.
            if (!seg || seg->empty() || seg->front() == '.' ||
                seg->find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
                return std::nullopt;
            }
            rel /= *seg;
        }
        if (slash == std::string_view::npos) break;
        i = slash + 1;
    }
    std::error_code ec;
    const fs::path full = root / rel;
    // Symbolic links are followed, and whatever they lead to must still be inside the root.
    const fs::path real = fs::canonical(full, ec);
    if (ec || !is_within(root, real)) return std::nullopt;
    return real;
}

std::string_view content_type_for(std::string_view filename) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTypes{{
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".map", "application/json"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/vnd.microsoft.icon"},
        {".mp3", "audio/mpeg"},
        {".ogg", "audio/ogg"},
        {".wav", "audio/wav"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        {".ttf", "font/ttf"},
        {".wasm", "application/wasm"},
    }};
    const auto dot = filename.rfind('.');
    if (dot == std::string_view::npos) return "application/octet-stream";
    std::string ext(filename.substr(dot));
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [e, type] : kTypes) {
        if (e == ext) return type;
    }
    return "application/octet-stream";
}

net::Response StaticFiles::serve(const net::Request& req, std::string_view path) const {
    const auto not_found = [&] {
        return net::make_response(req, status::not_found, kText, std::string(kNotFound));
    };
    auto file = resolve_static_path(root_, path);
    if (!file) return not_found();
    std::error_code ec;
    if (fs::is_directory(*file, ec)) {
        if (!path.ends_with('/')) {
            auto res = net::make_response(req, status::moved_permanently, "", "");
            res.set(net::http::field::location, std::string(path) + "/");
            return res;
        }
        *file /= "index.html";
    }
    if (!fs::is_regular_file(*file, ec)) return not_found();
    const auto mtime = fs::last_write_time(*file, ec);
    const std::time_t modified = ec ? 0 : to_time_t(mtime);
    if (modified > 0) {
        const auto since = req[net::http::field::if_modified_since];
        if (!since.empty()) {
            if (const auto t = parse_http_date(since); t && modified <= *t) {
                auto res = net::make_response(req, status::not_modified, "", "");
                res.set(net::http::field::last_modified, http_date(modified));
                return res;
            }
        }
    }
    std::ifstream in(*file, std::ios::binary);
    if (!in) return not_found();
    std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const bool head = req.method() == net::http::verb::head;
    auto res = net::make_response(req, status::ok, content_type_for(file->filename().string()),
                                  head ? std::string() : std::move(body));
    if (head) res.content_length(fs::file_size(*file, ec));
    if (modified > 0) res.set(net::http::field::last_modified, http_date(modified));
    res.set("X-Content-Type-Options", "nosniff");
    return res;
}

}  // namespace barertc::web
