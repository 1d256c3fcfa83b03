#pragma once
// Allow-list HTML sanitiser for chat messages, modelled on bluemonday's "UGC" policy
// (features.md §2 step 2).
//
// The input is tokenised (tags, attributes, comments, raw-text elements) and the output is
// rebuilt from scratch: only allow-listed elements and attributes are written back, every
// attribute value and every text run is entity-decoded and then re-escaped, and URLs are
// checked on the decoded value. Because nothing from the input is copied verbatim, the
// result is safe to insert with innerHTML whatever the input looked like.

#include <string>
#include <string_view>

namespace barertc::media {

// Returns the allowed subset of `html`. Tags are not balanced (like the original); text
// inside dropped elements is kept, except for script/style/iframe-like elements whose
// content is removed.
std::string sanitize_html(std::string_view html);

// Escapes text the way Go's html.EscapeString does (& ' < > " and CR), so the output of the
// sanitiser matches the original server byte for byte where possible.
std::string escape_html(std::string_view text);

// Decodes character references (named, decimal, hex) as an HTML parser would in text
// content. Unknown or malformed references are left as they are.
std::string decode_html_entities(std::string_view text);

}  // namespace barertc::media
