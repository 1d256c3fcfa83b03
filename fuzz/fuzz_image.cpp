// Fuzzes the shared-image entry point (media/image: process_image) with small limits so each
// run stays fast: the magic-byte check, the header pixel-count check, libvips decoding of
// JPEG/PNG/GIF, scaling and re-encoding. The first input byte picks the file name.

#include "media/image.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    setenv("VIPS_CONCURRENCY", "1", 1);
    barertc::media::init_image_library("fuzz_image");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace barertc::media;
    if (size == 0) return 0;
    static constexpr std::string_view kNames[] = {"a.jpg", "b.png", "c.gif", "d.JPEG", "e.txt"};
    const auto name = kNames[data[0] % std::size(kNames)];
    ImageLimits limits;
    limits.max_width = 64;
    limits.preview_width = 32;
    limits.max_input_bytes = 256 * 1024;
    limits.max_input_pixels = 128 * 128;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto r = process_image(bytes, name, limits);
    if (r.ok == r.html.empty()) __builtin_trap();
    return 0;
}
