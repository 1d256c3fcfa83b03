#include "media/image.hpp"

#include "util/base64.hpp"

#include <vips/vips8>

#include <glib.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace barertc::media {

namespace {

constexpr std::string_view kInvalidImage =
    "Could not process that image: it is not a valid JPEG, PNG or GIF picture, or the file is "
    "damaged.";
constexpr std::string_view kNotAGif =
    "Could not process that image: the file name ends in .gif but the file is not a GIF "
    "picture.";
constexpr std::string_view kEncodeFailed =
    "Could not process that image: it could not be converted for sharing.";

enum class Format { unknown, jpeg, png, gif };

// The container format by magic bytes. Only these three decoders may ever see user data:
// libvips can load many more formats (SVG, PDF, ImageMagick, ...) that we do not want to
// expose to uploads.
Format sniff_format(std::string_view bytes) {
    if (bytes.starts_with(std::string_view("\xFF\xD8\xFF", 3))) return Format::jpeg;
    if (bytes.starts_with(std::string_view("\x89PNG\r\n\x1A\n", 8))) return Format::png;
    if (bytes.starts_with("GIF87a") || bytes.starts_with("GIF89a")) return Format::gif;
    return Format::unknown;
}

bool ends_with_nocase(std::string_view text, std::string_view suffix) {
    if (text.size() < suffix.size()) return false;
    return std::equal(suffix.begin(), suffix.end(), text.end() - suffix.size(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
    });
}

ImageResult failure(std::string_view message) {
    ImageResult result;
    result.error = message;
    return result;
}

std::string too_many_bytes_message(std::size_t limit) {
    constexpr std::size_t kMiB = 1024 * 1024;
    const std::string amount =
        limit >= kMiB ? std::to_string(limit / kMiB) + " MiB" : std::to_string(limit) + " bytes";
    return "Could not process that image: the file is larger than the limit of " + amount + ".";
}

std::string too_many_pixels_message(std::int64_t width, std::int64_t height) {
    return "Could not process that image: it is too large (" + std::to_string(width) + "x" +
           std::to_string(height) + " pixels).";
}

// libvips errors go to a process-wide buffer that otherwise grows with every bad upload.
// Another thread's message may be cleared too; we never show vips messages to users anyway.
void clear_vips_error() {
    vips_error_clear();
}

struct BlobUnref {
    void operator()(VipsBlob* blob) const { vips_area_unref(VIPS_AREA(blob)); }
};
using BlobPtr = std::unique_ptr<VipsBlob, BlobUnref>;

struct GFree {
    void operator()(void* p) const { g_free(p); }
};

// Loader options shared by the header probe and the decode. fail_on=error turns decoder
// errors and truncation into failures instead of grey or partial pictures.
vips::VOption* load_options() {
    return vips::VImage::option()
        ->set("access", VIPS_ACCESS_SEQUENTIAL)
        ->set("fail_on", VIPS_FAIL_ON_ERROR);
}

// Opens the image header only (libvips decodes pixels lazily), so huge declared dimensions
// can be refused before anything big is allocated. The view must outlive the image.
vips::VImage open_header(std::string_view bytes) {
    vips::VImage image =
        vips::VImage::new_from_buffer(bytes.data(), bytes.size(), "", load_options());
    // Belt and braces: the magic-byte sniff already limits which loader vips picks.
    const char* loader = nullptr;
    if (vips_image_get_string(image.get_image(), "vips-loader", &loader) != 0) {
        clear_vips_error();
        throw vips::VError("no loader recorded");
    }
    const std::string_view name(loader);
    if (name != "jpegload_buffer" && name != "pngload_buffer" && name != "gifload_buffer") {
        throw vips::VError("unexpected loader");
    }
    return image;
}

bool too_many_pixels(std::int64_t width, std::int64_t height, const ImageLimits& limits) {
    return static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) >
           limits.max_input_pixels;
}

// Decodes, rotates upright and scales to exactly `full`, then encodes as `mime` without any
// metadata. Throws vips::VError on failure.
std::string reencode(std::string_view bytes, std::string_view mime, ImageSize full) {
    // The blob borrows the caller's bytes (no copy, no free function); the pipeline below is
    // fully evaluated before this function returns.
    BlobPtr blob(vips_blob_new(nullptr, bytes.data(), bytes.size()));
    // thumbnail applies the EXIF orientation (target sizes are for the upright image), uses
    // JPEG shrink-on-load for big photos, converts embedded colour profiles to sRGB and
    // streams large PNGs instead of holding them in memory.
    vips::VImage image =
        vips::VImage::thumbnail_buffer(blob.get(), static_cast<int>(full.width),
                                       vips::VImage::option()
                                           ->set("height", static_cast<int>(full.height))
                                           ->set("size", VIPS_SIZE_FORCE)
                                           ->set("option_string", "fail_on=error"));

    // Like the original's RGBA canvas: 8-bit sRGB whatever came in (grey, 16-bit, CMYK).
    if (image.interpretation() != VIPS_INTERPRETATION_sRGB || image.format() != VIPS_FORMAT_UCHAR) {
        image = image.colourspace(VIPS_INTERPRETATION_sRGB);
        if (image.format() != VIPS_FORMAT_UCHAR) image = image.cast(VIPS_FORMAT_UCHAR);
    }

    // Rounding inside the resampler could in theory be one pixel off; the tag's size must
    // describe the data, so pin it.
    if (image.width() != full.width || image.height() != full.height) {
        image = image.embed(0, 0, static_cast<int>(full.width), static_cast<int>(full.height),
                            vips::VImage::option()->set("extend", VIPS_EXTEND_COPY));
    }

    void* out = nullptr;
    std::size_t out_len = 0;
    if (mime == "image/jpeg") {
        // JPEG has no alpha; transparent areas end up black as with the original's canvas.
        if (image.has_alpha()) image = image.flatten();
        image.write_to_buffer(".jpg", &out, &out_len,
                              vips::VImage::option()
                                  ->set("Q", 90)
                                  ->set("strip", true)
                                  ->set("interlace", false)
                                  ->set("subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON));
    } else {
        image.write_to_buffer(".png", &out, &out_len, vips::VImage::option()->set("strip", true));
    }
    std::unique_ptr<void, GFree> owned(out);
    return std::string(static_cast<const char*>(out), out_len);
}

}  // namespace

std::string_view image_mime_type(std::string_view filename) {
    if (ends_with_nocase(filename, ".jpg") || ends_with_nocase(filename, ".jpeg")) {
        return "image/jpeg";
    }
    if (ends_with_nocase(filename, ".gif")) return "image/gif";
    if (ends_with_nocase(filename, ".png")) return "image/png";
    return {};
}

ImageSize full_image_size(ImageSize decoded, std::int64_t max_width) {
    max_width = std::max<std::int64_t>(max_width, 1);
    ImageSize full = decoded;
    // Same float expression order as the original so truncation matches it.
    if (decoded.width >= decoded.height) {
        if (decoded.width > max_width) {
            full.height = static_cast<std::int64_t>(static_cast<double>(decoded.height) /
                                                    static_cast<double>(decoded.width) *
                                                    static_cast<double>(max_width));
            full.width = max_width;
        }
    } else if (decoded.height > max_width) {
        full.width = static_cast<std::int64_t>(static_cast<double>(decoded.width) /
                                               static_cast<double>(decoded.height) *
                                               static_cast<double>(max_width));
        full.height = max_width;
    }
    // An extreme aspect ratio would truncate to 0, which cannot be encoded.
    full.width = std::max<std::int64_t>(full.width, 1);
    full.height = std::max<std::int64_t>(full.height, 1);
    return full;
}

ImageSize preview_image_size(ImageSize full, std::int64_t preview_width) {
    preview_width = std::max<std::int64_t>(preview_width, 1);
    ImageSize display{preview_width, preview_width};
    if (full.width >= full.height) {
        if (full.width > preview_width) {
            display.height = static_cast<std::int64_t>(static_cast<double>(full.height) /
                                                       static_cast<double>(full.width) *
                                                       static_cast<double>(preview_width));
        }
    } else if (full.height > preview_width) {
        display.width = static_cast<std::int64_t>(static_cast<double>(full.width) /
                                                  static_cast<double>(full.height) *
                                                  static_cast<double>(preview_width));
    }
    display.width = std::max<std::int64_t>(display.width, 1);
    display.height = std::max<std::int64_t>(display.height, 1);
    return display;
}

std::string image_html(std::string_view mime_type, std::string_view data, ImageSize display) {
    std::string html;
    const std::string encoded = base64::encode(data);
    html.reserve(encoded.size() + 128);
    html += "<img src=\"data:";
    html += mime_type;
    html += ";base64,";
    html += encoded;
    html += "\" width=\"";
    html += std::to_string(display.width);
    html += "\" height=\"";
    html += std::to_string(display.height);
    html += "\" onclick=\"setModalImage(this.src)\" style=\"cursor: pointer\">";
    return html;
}

ImageResult process_image(std::string_view bytes, std::string_view filename,
                          const ImageLimits& limits) {
    const std::string_view mime = image_mime_type(filename);
    if (mime.empty()) return failure(kUnsupportedImageType);
    if (bytes.size() > limits.max_input_bytes) {
        return failure(too_many_bytes_message(limits.max_input_bytes));
    }

    const Format format = sniff_format(bytes);
    if (mime == "image/gif" && format != Format::gif) {
        return failure(format == Format::unknown ? kInvalidImage : kNotAGif);
    }
    if (format == Format::unknown) return failure(kInvalidImage);

    try {
        init_image_library(nullptr);
    } catch (const std::exception&) {
        return failure(kEncodeFailed);
    }

    ImageSize decoded;
    bool swap = false;
    try {
        const vips::VImage header = open_header(bytes);
        decoded = {header.width(), header.height()};
        swap = mime != "image/gif" && vips_image_get_orientation_swap(header.get_image());
    } catch (const std::exception&) {  // vips::VError, or bad_alloc from its wrappers
        clear_vips_error();
        return failure(kInvalidImage);
    }
    if (decoded.width < 1 || decoded.height < 1) return failure(kInvalidImage);
    if (too_many_pixels(decoded.width, decoded.height, limits)) {
        return failure(too_many_pixels_message(decoded.width, decoded.height));
    }
    if (swap) std::swap(decoded.width, decoded.height);

    const ImageSize full = full_image_size(decoded, limits.max_width);
    ImageResult result;
    if (mime == "image/gif") {
        // Passed through untouched so animations survive; the page shows it at full size.
        result.html = image_html(mime, bytes, full);
        result.ok = true;
        return result;
    }

    std::string encoded;
    try {
        encoded = reencode(bytes, mime, full);
    } catch (const vips::VError&) {
        clear_vips_error();
        // The header was fine, so this is nearly always corrupt or truncated pixel data.
        return failure(kInvalidImage);
    } catch (const std::exception&) {
        return failure(kEncodeFailed);
    }
    result.html = image_html(mime, encoded, preview_image_size(full, limits.preview_width));
    result.ok = true;
    return result;
}

void init_image_library(const char* argv0) {
    static std::once_flag once;
    std::call_once(once, [argv0] {
        if (VIPS_INIT(argv0 != nullptr ? argv0 : "barertc") != 0) {
            const std::string message = vips_error_buffer();
            vips_error_clear();
            throw std::runtime_error("libvips failed to start: " + message);
        }
        // Every upload is different, so cached operations would only hold memory.
        vips_cache_set_max(0);
        // Loaders such as ImageMagick are not meant for hostile input; uploads only ever
        // need the JPEG, PNG and GIF loaders.
        vips_block_untrusted_set(TRUE);
    });
}

}  // namespace barertc::media
