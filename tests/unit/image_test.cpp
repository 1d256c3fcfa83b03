// Image sharing (protocol.md §14, features.md §10). Test pictures are made in-test with
// libvips, except the crafted hostile files, which are built byte by byte.
#include "media/image.hpp"
#include "util/base64.hpp"

#include <gtest/gtest.h>
#include <boost/crc.hpp>
#include <vips/vips8>

#include <glib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using barertc::media::full_image_size;
using barertc::media::image_mime_type;
using barertc::media::ImageLimits;
using barertc::media::ImageResult;
using barertc::media::ImageSize;
using barertc::media::kUnsupportedImageType;
using barertc::media::preview_image_size;
using barertc::media::process_image;
using vips::VImage;

namespace {

// Everything after the height attribute's value.
constexpr std::string_view kTagSuffix =
    " onclick=\"setModalImage(this.src)\" style=\"cursor: pointer\">";

class ImageTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { barertc::media::init_image_library("unit_tests"); }
};

// The tests for the size rules need no libvips, but share the fixture for the filter name.
using ImageSizeTest = ImageTest;

// A 3-band 8-bit picture with some structure, so encoders do real work.
VImage gradient(int width, int height) {
    VImage xy = VImage::xyz(width, height);
    VImage x = xy[0];
    VImage y = xy[1];
    return x.bandjoin(y).bandjoin(x + y).cast(VIPS_FORMAT_UCHAR);
}

std::string save(const VImage& image, const char* suffix, vips::VOption* options = nullptr) {
    void* buf = nullptr;
    std::size_t len = 0;
    image.write_to_buffer(suffix, &buf, &len, options);
    std::string out(static_cast<const char*>(buf), len);
    g_free(buf);
    return out;
}

struct Decoded {
    std::string mime;
    std::string data;
    int width = 0;
    int height = 0;
    std::int64_t attr_width = 0;
    std::int64_t attr_height = 0;
};

// Splits the tag back into its parts and decodes the data URL's picture.
std::optional<Decoded> decode_tag(const std::string& html) {
    const std::string_view prefix = "<img src=\"data:";
    if (!html.starts_with(prefix) || !html.ends_with(kTagSuffix)) return std::nullopt;
    const std::size_t semi = html.find(";base64,");
    const std::size_t quote = html.find('"', prefix.size());
    if (semi == std::string::npos || quote == std::string::npos || semi > quote) {
        return std::nullopt;
    }
    Decoded out;
    out.mime = html.substr(prefix.size(), semi - prefix.size());
    auto data =
        barertc::base64::decode(std::string_view(html).substr(semi + 8, quote - (semi + 8)));
    if (!data) return std::nullopt;
    out.data = std::move(*data);
    const std::string rest = html.substr(quote, html.size() - quote - kTagSuffix.size());
    long long w = 0;
    long long h = 0;
    if (std::sscanf(rest.c_str(), "\" width=\"%lld\" height=\"%lld", &w, &h) != 2) {
        return std::nullopt;
    }
    out.attr_width = w;
    out.attr_height = h;
    const std::string expected_rest =
        "\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) + "\"";
    if (rest != expected_rest) return std::nullopt;
    try {
        VImage image = VImage::new_from_buffer(out.data, "", VImage::option()->set("fail", true));
        // Force a full decode so a broken output would show here.
        (void)image.avg();
        out.width = image.width();
        out.height = image.height();
    } catch (const vips::VError&) {
        vips_error_clear();
        return std::nullopt;
    }
    return out;
}

std::string loader_of(const std::string& data) {
    VImage image = VImage::new_from_buffer(data, "");
    return image.get_string("vips-loader");
}

void put_be32(std::string& out, std::uint32_t v) {
    out += static_cast<char>(v >> 24);
    out += static_cast<char>(v >> 16);
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v);
}

void put_png_chunk(std::string& out, std::string_view type, std::string_view data) {
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    boost::crc_32_type crc;
    crc.process_bytes(type.data(), type.size());
    crc.process_bytes(data.data(), data.size());
    out += type;
    out += data;
    put_be32(out, crc.checksum());
}

// A well-formed PNG whose IHDR declares `width` x `height` RGB pixels, followed by a valid
// zlib stream holding one stored block of zeros: the whole picture when it is small, else
// just the first 1 KiB (as a bomb would, the rest never needs to be sent).
std::string png_with_declared_size(std::uint32_t width, std::uint32_t height) {
    std::string png("\x89PNG\r\n\x1A\n", 8);
    std::string ihdr;
    put_be32(ihdr, width);
    put_be32(ihdr, height);
    ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no interlace
    put_png_chunk(png, "IHDR", ihdr);

    const std::uint64_t needed =
        static_cast<std::uint64_t>(height) * (1 + 3 * static_cast<std::uint64_t>(width));
    const std::string raw(static_cast<std::size_t>(std::min<std::uint64_t>(needed, 1024)), '\0');
    std::string idat("\x78\x01", 2);
    idat += '\x01';  // final stored block
    const auto len = static_cast<std::uint16_t>(raw.size());
    idat += static_cast<char>(len & 0xFF);
    idat += static_cast<char>(len >> 8);
    idat += static_cast<char>(~len & 0xFF);
    idat += static_cast<char>((~len >> 8) & 0xFF);
    idat += raw;
    // Adler-32 of all-zero bytes: a = 1, b = n.
    put_be32(idat, (static_cast<std::uint32_t>(raw.size()) << 16) | 1u);
    put_png_chunk(png, "IDAT", idat);
    put_png_chunk(png, "IEND", "");
    return png;
}

ImageResult run(std::string_view bytes, std::string_view name, ImageLimits limits = {}) {
    return process_image(bytes, name, limits);
}

}  // namespace

TEST_F(ImageSizeTest, MimeTypeByExtensionIgnoresCase) {
    EXPECT_EQ(image_mime_type("photo.jpg"), "image/jpeg");
    EXPECT_EQ(image_mime_type("PHOTO.JPEG"), "image/jpeg");
    EXPECT_EQ(image_mime_type("a.b.JpG"), "image/jpeg");
    EXPECT_EQ(image_mime_type("anim.GiF"), "image/gif");
    EXPECT_EQ(image_mime_type("shot.Png"), "image/png");
    EXPECT_EQ(image_mime_type(".png"), "image/png");
    EXPECT_EQ(image_mime_type("picture.webp"), "");
    EXPECT_EQ(image_mime_type("png"), "");
    EXPECT_EQ(image_mime_type("photo.jpg.exe"), "");
    EXPECT_EQ(image_mime_type(""), "");
}

TEST_F(ImageSizeTest, SpecExamples) {
    // features.md §10 examples with the defaults (Max 1280, Preview 360).
    EXPECT_EQ(full_image_size({4000, 3000}, 1280), (ImageSize{1280, 960}));
    EXPECT_EQ(preview_image_size({1280, 960}, 360), (ImageSize{360, 270}));
    EXPECT_EQ(full_image_size({1000, 2000}, 1280), (ImageSize{640, 1280}));
    EXPECT_EQ(preview_image_size({640, 1280}, 360), (ImageSize{180, 360}));
    EXPECT_EQ(full_image_size({200, 100}, 1280), (ImageSize{200, 100}));
    EXPECT_EQ(preview_image_size({200, 100}, 360), (ImageSize{360, 360}));
    EXPECT_EQ(full_image_size({2000, 1000}, 1280), (ImageSize{1280, 640}));
}

TEST_F(ImageSizeTest, TruncatesAndNeverUpscales) {
    EXPECT_EQ(full_image_size({1280, 1280}, 1280), (ImageSize{1280, 1280}));
    EXPECT_EQ(full_image_size({1281, 1281}, 1280), (ImageSize{1280, 1280}));
    EXPECT_EQ(full_image_size({3000, 1999}, 1280), (ImageSize{1280, 852}));  // 852.9
    EXPECT_EQ(full_image_size({1999, 3000}, 1280), (ImageSize{852, 1280}));
    EXPECT_EQ(full_image_size({10, 20}, 1280), (ImageSize{10, 20}));
    // Square-or-wider uses the width rule; the preview rule is "strictly larger than".
    EXPECT_EQ(preview_image_size({360, 100}, 360), (ImageSize{360, 360}));
    EXPECT_EQ(preview_image_size({361, 100}, 360), (ImageSize{360, 99}));  // 99.7
    EXPECT_EQ(preview_image_size({100, 361}, 360), (ImageSize{99, 360}));
    EXPECT_EQ(preview_image_size({100, 360}, 360), (ImageSize{360, 360}));
    // Extreme aspect ratios would truncate to 0; a side is never below 1.
    EXPECT_EQ(full_image_size({100000, 10}, 1280), (ImageSize{1280, 1}));
    EXPECT_EQ(preview_image_size({1280, 1}, 360), (ImageSize{360, 1}));
}

TEST_F(ImageTest, LargeJpegIsScaledTo1280Wide) {
    const std::string jpeg = save(gradient(2000, 1000), ".jpg");
    const ImageResult r = run(jpeg, "holiday.jpg");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.error.empty());
    EXPECT_TRUE(r.html.starts_with("<img src=\"data:image/jpeg;base64,/9j/"))
        << r.html.substr(0, 60);
    EXPECT_TRUE(
        r.html.ends_with("\" width=\"360\" height=\"180\" onclick=\"setModalImage(this.src)\" "
                         "style=\"cursor: pointer\">"));
    const auto d = decode_tag(r.html);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->mime, "image/jpeg");
    EXPECT_EQ(loader_of(d->data), "jpegload_buffer");
    EXPECT_EQ(d->width, 1280);
    EXPECT_EQ(d->height, 640);
    EXPECT_EQ(d->attr_width, 360);
    EXPECT_EQ(d->attr_height, 180);
}

TEST_F(ImageTest, PortraitPngIsScaledByHeight) {
    const std::string png = save(gradient(1000, 2000), ".png");
    const ImageResult r = run(png, "tall.PNG");
    ASSERT_TRUE(r.ok) << r.error;
    const auto d = decode_tag(r.html);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->mime, "image/png");
    EXPECT_EQ(loader_of(d->data), "pngload_buffer");
    EXPECT_EQ(d->width, 640);
    EXPECT_EQ(d->height, 1280);
    EXPECT_EQ(d->attr_width, 180);
    EXPECT_EQ(d->attr_height, 360);
}

TEST_F(ImageTest, SmallPngKeepsItsSizeAndShowsAsPreviewSquare) {
    const std::string png = save(gradient(200, 100), ".png");
    const ImageResult r = run(png, "small.png");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.html.starts_with("<img src=\"data:image/png;base64,iVBORw0KGgo"));
    EXPECT_TRUE(r.html.ends_with("\" width=\"360\" height=\"360\"" + std::string(kTagSuffix)));
    const auto d = decode_tag(r.html);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->width, 200);
    EXPECT_EQ(d->height, 100);
    // Not resized, so the pixels survive the lossless round trip.
    VImage in = VImage::new_from_buffer(png, "");
    VImage out = VImage::new_from_buffer(d->data, "");
    EXPECT_EQ(out.bands(), 3);
    EXPECT_EQ((in - out).abs().max(), 0.0);
}

TEST_F(ImageTest, ExifOrientationIsAppliedAndMetadataStripped) {
    // Left half white, right half black; orientation 6 means "rotate 90° clockwise to view",
    // so the upright picture is white on top.
    VImage left = VImage::black(400, 400, VImage::option()->set("bands", 3)) + 255;
    VImage right = VImage::black(400, 400, VImage::option()->set("bands", 3));
    VImage image = left.join(right, VIPS_DIRECTION_HORIZONTAL).cast(VIPS_FORMAT_UCHAR);
    image.set("orientation", 6);
    const std::string jpeg = save(image, ".jpg");
    ASSERT_NE(jpeg.find("Exif"), std::string::npos) << "test input should carry EXIF";
    ASSERT_EQ(VImage::new_from_buffer(jpeg, "").get_int("orientation"), 6);

    const ImageResult r = run(jpeg, "phone.jpeg");
    ASSERT_TRUE(r.ok) << r.error;
    const auto d = decode_tag(r.html);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->width, 400);
    EXPECT_EQ(d->height, 800);
    EXPECT_EQ(d->attr_width, 180);
    EXPECT_EQ(d->attr_height, 360);
    EXPECT_EQ(d->data.find("Exif"), std::string::npos);
    EXPECT_EQ(d->data.find("http://ns.adobe.com/xap"), std::string::npos);
    VImage out = VImage::new_from_buffer(d->data, "");
    EXPECT_EQ(out.get_typeof("orientation"), 0u);
    EXPECT_GT(out.getpoint(200, 100)[0], 200.0);
    EXPECT_LT(out.getpoint(200, 700)[0], 50.0);
}

TEST_F(ImageTest, PngTextChunksAreStripped) {
    VImage image = gradient(50, 40).copy();
    image.set("png-comment-0-Location", "secret place");
    const std::string png = save(image, ".png");
    // libpng may compress the text, but the chunk keyword is always plain.
    ASSERT_NE(png.find("Location"), std::string::npos);
    ASSERT_NE(VImage::new_from_buffer(png, "").get_typeof("png-comment-0-Location"), 0u);

    const ImageResult r = run(png, "a.png");
    ASSERT_TRUE(r.ok) << r.error;
    const auto d = decode_tag(r.html);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->data.find("Location"), std::string::npos);
    for (const char* chunk : {"tEXt", "zTXt", "iTXt", "eXIf", "iCCP"}) {
        EXPECT_EQ(d->data.find(chunk), std::string::npos) << chunk;
    }
    EXPECT_EQ(VImage::new_from_buffer(d->data, "").get_typeof("png-comment-0-Location"), 0u);
}

TEST_F(ImageTest, GifPassesThroughByteIdenticalAtFullSize) {
    const std::string gif = save(gradient(2000, 1000), ".gif");
    ASSERT_TRUE(gif.starts_with("GIF8"));
    const ImageResult r = run(gif, "anim.gif");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.html, "<img src=\"data:image/gif;base64," + barertc::base64::encode(gif) +
                          "\" width=\"1280\" height=\"640\"" + std::string(kTagSuffix));
    const auto d = decode_tag(r.html);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->data, gif);
}

TEST_F(ImageTest, SmallGifIsShownAtItsOwnSize) {
    const std::string gif = save(gradient(40, 30), ".gif");
    const ImageResult r = run(gif, "tiny.GIF");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.html.ends_with("\" width=\"40\" height=\"30\"" + std::string(kTagSuffix)));
}

TEST_F(ImageTest, UnsupportedExtensionGivesExactError) {
    const std::string png = save(gradient(10, 10), ".png");
    for (const char* name : {"picture.webp", "picture.png.txt", "noextension", ""}) {
        const ImageResult r = run(png, name);
        EXPECT_FALSE(r.ok) << name;
        EXPECT_TRUE(r.html.empty());
        EXPECT_EQ(r.error, "Unsupported image type, should be a jpeg, GIF or png.") << name;
    }
    EXPECT_EQ(kUnsupportedImageType, "Unsupported image type, should be a jpeg, GIF or png.");
}

TEST_F(ImageTest, GarbageBytesAreRefused) {
    std::mt19937 rng(42);
    std::string garbage(5000, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    for (const char* name : {"x.png", "x.jpg", "x.gif"}) {
        const ImageResult r = run(garbage, name);
        EXPECT_FALSE(r.ok) << name;
        EXPECT_TRUE(r.html.empty());
        EXPECT_TRUE(r.error.starts_with("Could not process that image")) << r.error;
    }
    EXPECT_FALSE(run("", "x.png").ok);
    EXPECT_FALSE(run("<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "x.png").ok);
    // Right magic bytes, nothing behind them.
    EXPECT_FALSE(run(std::string_view("\x89PNG\r\n\x1A\n", 8), "x.png").ok);
    EXPECT_FALSE(run(std::string_view("\xFF\xD8\xFF", 3), "x.jpg").ok);
    EXPECT_FALSE(run("GIF89a", "x.gif").ok);
    EXPECT_FALSE(run("GIF89a" + garbage, "x.gif").ok);
}

TEST_F(ImageTest, TruncatedJpegAndPngAreRefused) {
    const std::string jpeg = save(gradient(600, 400), ".jpg");
    const ImageResult rj = run(std::string_view(jpeg).substr(0, jpeg.size() / 2), "t.jpg");
    EXPECT_FALSE(rj.ok);
    EXPECT_EQ(rj.error,
              "Could not process that image: it is not a valid JPEG, PNG or GIF picture, or "
              "the file is damaged.");

    const std::string png = save(gradient(600, 400), ".png");
    const ImageResult rp = run(std::string_view(png).substr(0, png.size() / 2), "t.png");
    EXPECT_FALSE(rp.ok);
    EXPECT_FALSE(rp.error.empty());
}

TEST_F(ImageTest, DecompressionBombIsRefusedFromTheHeader) {
    const std::string bomb = png_with_declared_size(100000, 100000);
    const auto start = std::chrono::steady_clock::now();
    const ImageResult r = run(bomb, "bomb.png");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(r.ok);
    // The pixel-count message proves the header check fired, not a decode failure.
    EXPECT_EQ(r.error, "Could not process that image: it is too large (100000x100000 pixels).");
    EXPECT_LT(elapsed, std::chrono::seconds(2));

    // The same crafted file at a sane size is accepted by the decoder up to the data it holds,
    // which shows the crafted file is a real PNG and not refused for being malformed.
    const std::string small = png_with_declared_size(16, 16);
    const ImageResult ok = run(small, "small.png");
    EXPECT_TRUE(ok.ok) << ok.error;
}

TEST_F(ImageTest, JpegWithHugeDeclaredSizeIsRefusedFromTheHeader) {
    // Patch the frame header (SOF0: FF C0, length, precision, height, width) of a real JPEG.
    std::string jpeg = save(gradient(16, 16), ".jpg");
    const std::size_t sof = jpeg.find(std::string_view("\xFF\xC0", 2));
    ASSERT_NE(sof, std::string::npos);
    for (std::size_t i : {sof + 5, sof + 7}) {
        jpeg[i] = static_cast<char>(0xEA);  // 60000 = 0xEA60
        jpeg[i + 1] = static_cast<char>(0x60);
    }
    const auto start = std::chrono::steady_clock::now();
    const ImageResult r = run(jpeg, "bomb.jpg");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    EXPECT_EQ(r.error, "Could not process that image: it is too large (60000x60000 pixels).");
}

TEST_F(ImageTest, PixelAndByteLimitsAreEnforced) {
    const std::string png = save(gradient(100, 100), ".png");
    ImageLimits few_pixels;
    few_pixels.max_input_pixels = 9999;
    EXPECT_EQ(run(png, "a.png", few_pixels).error,
              "Could not process that image: it is too large (100x100 pixels).");
    few_pixels.max_input_pixels = 10000;
    EXPECT_TRUE(run(png, "a.png", few_pixels).ok);

    const std::string gif = save(gradient(100, 100), ".gif");
    few_pixels.max_input_pixels = 9999;
    EXPECT_FALSE(run(gif, "a.gif", few_pixels).ok);

    ImageLimits few_bytes;
    few_bytes.max_input_bytes = 2 * 1024 * 1024;
    const std::string big(few_bytes.max_input_bytes + 1, '\0');
    EXPECT_EQ(run(big, "a.png", few_bytes).error,
              "Could not process that image: the file is larger than the limit of 2 MiB.");
}

TEST_F(ImageTest, ContentIsDecodedByContentButEncodedAsNamed) {
    // A PNG named .jpg comes out as a real JPEG, as the original (which decodes by content).
    const std::string png = save(gradient(300, 200), ".png");
    const ImageResult r = run(png, "renamed.jpg");
    ASSERT_TRUE(r.ok) << r.error;
    const auto d = decode_tag(r.html);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->mime, "image/jpeg");
    EXPECT_EQ(loader_of(d->data), "jpegload_buffer");
    EXPECT_EQ(d->width, 300);

    // A GIF named .png is decoded (first frame) and re-encoded as PNG.
    const std::string gif = save(gradient(30, 20), ".gif");
    const ImageResult rg = run(gif, "renamed.png");
    ASSERT_TRUE(rg.ok) << rg.error;
    EXPECT_EQ(loader_of(decode_tag(rg.html)->data), "pngload_buffer");

    // GIFs are passed through untouched, so a .gif name must really hold a GIF.
    const ImageResult rn = run(png, "fake.gif");
    EXPECT_FALSE(rn.ok);
    EXPECT_EQ(rn.error,
              "Could not process that image: the file name ends in .gif but the file is not a "
              "GIF picture.");
}

TEST_F(ImageTest, AlphaAndSixteenBitInputsAreConverted) {
    // RGBA PNG saved as JPEG: alpha is flattened; 16-bit grey PNG becomes 8-bit sRGB.
    VImage rgba = gradient(64, 64).bandjoin(128).cast(VIPS_FORMAT_UCHAR);
    const auto r1 = run(save(rgba, ".png"), "a.jpg");
    ASSERT_TRUE(r1.ok) << r1.error;
    EXPECT_EQ(VImage::new_from_buffer(decode_tag(r1.html)->data, "").bands(), 3);

    const auto r2 = run(save(rgba, ".png"), "a.png");
    ASSERT_TRUE(r2.ok) << r2.error;
    EXPECT_EQ(VImage::new_from_buffer(decode_tag(r2.html)->data, "").bands(), 4);

    VImage grey16 = (VImage::xyz(64, 64)[0] * 1000)
                        .cast(VIPS_FORMAT_USHORT)
                        .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_GREY16));
    const auto r3 = run(save(grey16, ".png"), "g.png");
    ASSERT_TRUE(r3.ok) << r3.error;
    VImage out = VImage::new_from_buffer(decode_tag(r3.html)->data, "");
    EXPECT_EQ(out.format(), VIPS_FORMAT_UCHAR);
    EXPECT_EQ(out.bands(), 3);
}

TEST_F(ImageTest, MutatedFilesNeverCrash) {
    // Cheap fuzzing: flipped bytes and cuts anywhere must give ok+valid output or an error.
    const std::vector<std::pair<std::string, const char*>> seeds = {
        {save(gradient(120, 80), ".jpg"), "f.jpg"},
        {save(gradient(120, 80), ".png"), "f.png"},
        {save(gradient(120, 80), ".gif"), "f.gif"},
    };
    std::mt19937 rng(7);
    for (const auto& [seed, name] : seeds) {
        for (int i = 0; i < 60; ++i) {
            std::string data = seed;
            if (i % 3 == 0) {
                data.resize(rng() % data.size());
            } else {
                for (int k = 0; k < 1 + i % 5; ++k) {
                    data[rng() % data.size()] = static_cast<char>(rng());
                }
            }
            const ImageResult r = run(data, name);
            if (r.ok) {
                EXPECT_TRUE(r.error.empty());
                if (std::string_view(name) != "f.gif") {
                    EXPECT_TRUE(decode_tag(r.html)) << name << " " << i;
                }
            } else {
                EXPECT_TRUE(r.html.empty());
                EXPECT_FALSE(r.error.empty());
            }
        }
    }
}

TEST_F(ImageTest, ConcurrentCallsGiveIdenticalResults) {
    const std::string jpeg = save(gradient(1600, 900), ".jpg");
    const std::string expected = run(jpeg, "p.jpg").html;
    ASSERT_FALSE(expected.empty());
    std::vector<std::string> results(8);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3; ++i) results[t] = run(jpeg, "p.jpg").html;
        });
    }
    for (auto& th : threads) th.join();
    for (const auto& r : results) EXPECT_EQ(r, expected);
}
