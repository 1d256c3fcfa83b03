#pragma once
// Built front-end files under /static/ and /assets/ (pages.md §1): read from a directory on
// disk, content type by extension, Last-Modified / If-Modified-Since, "404 page not found" for
// anything missing, and nothing outside the directory (no "..", no encoded slashes, no
// symbolic links that lead out of it).

#include "net/http_types.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace barertc::web {

class StaticFiles {
  public:
    // `root` is the folder holding static/ and assets/ (the front-end build's dist/).
    explicit StaticFiles(std::filesystem::path root);
    // The default folder: "dist" in the working directory if it exists, else the front-end
    // build's folder known at compile time (BARERTC_WEB_DIST), else "dist".
    static std::filesystem::path default_root();

    const std::filesystem::path& root() const { return root_; }

    // Serves `path` (a clean URL path starting with /static/ or /assets/, query removed).
    net::Response serve(const net::Request& req, std::string_view path) const;

  private:
    std::filesystem::path root_;
};

// The file inside `root` for the URL path `path` (percent-decoded), or nothing when the path
// is malformed, names a hidden or parent segment, or resolves outside `root`.
std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path& root,
                                                         std::string_view path);

// Content-Type for a file name, by extension (case-insensitive).
std::string_view content_type_for(std::string_view filename);

}  // namespace barertc::web
