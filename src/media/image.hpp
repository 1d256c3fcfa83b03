#pragma once
// Shared-image processing (protocol.md §14, features.md §10): turns an uploaded file into the
// exact <img> tag the page expects.
//
// process_image() is pure and thread-safe so it can run on a worker pool away from the chat
// room's thread. It only decodes JPEG, PNG and GIF content (checked by magic bytes, whatever
// the file name says), checks the declared pixel count from the header before any pixels are
// decoded, and makes libvips fail on corrupt or truncated data instead of returning garbage.
//
// Content that does not match the extension: JPEG/PNG names accept any of the three formats
// by content and re-encode to the type the name declares (as the original does, which
// decodes by content). A .gif name must hold a real GIF, because GIF bytes are passed through
// untouched and are labelled image/gif.
//
// Deliberate difference from the original: when decoding fails the original forwards the raw
// bytes with a preview-sized square; here the upload is refused with an error message instead.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace barertc::media {

struct ImageLimits {
    std::int64_t max_width = 1280;     // MaxImageWidth: longest side after scaling
    std::int64_t preview_width = 360;  // PreviewImageWidth: display size in the chat log
    std::size_t max_input_bytes = 41943040;
    std::uint64_t max_input_pixels = 50'000'000;  // width * height declared by the header
};

struct ImageResult {
    bool ok = false;
    std::string html;   // the exact <img ...> tag
    std::string error;  // user-facing ChatServer text on failure
};

struct ImageSize {
    std::int64_t width = 0;
    std::int64_t height = 0;
    bool operator==(const ImageSize&) const = default;
};

// The exact error text for a file name whose extension is not .jpg/.jpeg/.gif/.png.
inline constexpr std::string_view kUnsupportedImageType =
    "Unsupported image type, should be a jpeg, GIF or png.";

// The MIME type for a file name by extension (case-insensitive), or "" when unsupported.
std::string_view image_mime_type(std::string_view filename);

// features.md §10 step 2: the size after scaling the longer side down to `max_width` (never
// up), truncating the other side. Both sides are at least 1.
ImageSize full_image_size(ImageSize decoded, std::int64_t max_width);

// features.md §10 step 3: the width/height attributes for a re-encoded JPEG/PNG of `full`
// size. Images not larger than the preview are shown as a preview_width square (a quirk of
// the original, kept on purpose). Both sides are at least 1.
ImageSize preview_image_size(ImageSize full, std::int64_t preview_width);

// The <img> tag for already-encoded image data.
std::string image_html(std::string_view mime_type, std::string_view data, ImageSize display);

// `filename` decides the type by extension; see kUnsupportedImageType. Never throws for bad
// input; failures come back as ok=false with an English message for the user.
ImageResult process_image(std::string_view bytes, std::string_view filename,
                          const ImageLimits& limits);

// Initialises libvips once per process; later calls do nothing. Throws std::runtime_error if
// libvips cannot start. process_image() calls it itself as a fallback, but main should call
// it first so argv0 is known.
void init_image_library(const char* argv0);

}  // namespace barertc::media
