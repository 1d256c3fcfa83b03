#pragma once
// YouTube embeds for chat messages (features.md §3).

#include <optional>
#include <string>
#include <string_view>

namespace barertc::media {

// The video id of the first YouTube link in `html`, if that link's id is plausible
// (ten of [0-9A-Za-z_-] then one of 048AEIMQUYcgkosw). Only the first link is considered.
std::optional<std::string> find_youtube_id(std::string_view html);

// The exact iframe markup the page expects for a video id.
std::string youtube_embed_html(std::string_view video_id);

// Appends the embed for the first YouTube link in already-sanitised `html` (at most one).
// The iframe is server-generated and trusted, so it is added after sanitising.
std::string append_youtube_embed(std::string html);

}  // namespace barertc::media
