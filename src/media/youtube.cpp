#include "media/youtube.hpp"

#include <re2/re2.h>

namespace barertc::media {

namespace {

const RE2& link_pattern() {
    // The pattern of features.md §3. It runs over rendered HTML, so it also sees URLs inside
    // href attributes; the id stops at '"', '&', '?', '/' and whitespace.
    static const RE2 re(
        R"re((?:youtube(?:-nocookie)?\.com/(?:[^/]+/.+/|(?:v|e(?:mbed)?)/|.*[?&]v=)|youtu\.be/))re"
        R"re(([^"&?/\s]{11}))re");
    return re;
}

// YouTube ids are 64 bits in URL-safe base64: the last of the 11 characters only carries
// 4 bits, which limits it to 16 values.
bool valid_video_id(std::string_view id) {
    static const RE2 re(R"([0-9A-Za-z_-]{10}[048AEIMQUYcgkosw])");
    return RE2::FullMatch(id, re);
}

}  // namespace

std::optional<std::string> find_youtube_id(std::string_view html) {
    std::string id;
    if (!RE2::PartialMatch(html, link_pattern(), &id)) return std::nullopt;
    if (!valid_video_id(id)) return std::nullopt;
    return id;
}

std::string youtube_embed_html(std::string_view video_id) {
    std::string out = R"(<iframe class="youtube-embed" width="560" height="315" )"
                      R"(src="https://www.youtube.com/embed/)";
    out += video_id;
    out += R"(" title="YouTube video player" frameborder="0" )"
           R"(allow="autoplay; encrypted-media; picture-in-picture; web-share" )"
           R"(allowfullscreen></iframe>)";
    return out;
}

std::string append_youtube_embed(std::string html) {
    if (const auto id = find_youtube_id(html)) html += youtube_embed_html(*id);
    return html;
}

}  // namespace barertc::media
