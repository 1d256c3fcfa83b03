#include "media/html_sanitizer.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

// cmark-gfm exports its HTML entity decoder (the full HTML5 named-entity table); reusing it
// avoids carrying a 2000-entry table of our own.
#include <cmark-gfm/houdini.h>
// houdini.h defines these as macros; keep them from leaking into the rest of this file.
#undef likely
#undef unlikely

namespace barertc::media {

namespace {

// ---------------------------------------------------------------------------------------
// Character helpers (ASCII only on purpose: HTML's syntax characters are all ASCII).

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = to_lower(c);
    return out;
}

bool iequals_prefix(std::string_view s, size_t at, std::string_view lower_word) {
    if (s.size() - at < lower_word.size()) return false;
    for (size_t i = 0; i < lower_word.size(); ++i) {
        if (to_lower(s[at + i]) != lower_word[i]) return false;
    }
    return true;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// ---------------------------------------------------------------------------------------
// Character references.

// HTML5 maps numeric references in 0x80..0x9F to their windows-1252 meaning (0 = unchanged).
constexpr std::array<char32_t, 32> kC1Remap = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

// The few legacy references that browsers also accept without the trailing ';' and that
// realistically occur in chat text.
struct LegacyEntity {
    std::string_view name;
    std::string_view value;
};
constexpr std::array<LegacyEntity, 10> kLegacyEntities = {{
    {"amp", "&"},
    {"AMP", "&"},
    {"lt", "<"},
    {"LT", "<"},
    {"gt", ">"},
    {"GT", ">"},
    {"quot", "\""},
    {"QUOT", "\""},
    {"nbsp", "\xC2\xA0"},
    {"copy", "\xC2\xA9"},
}};

// Decodes the reference starting at s[at] == '&' into `out`. Returns the number of input
// bytes consumed, or 0 when there is no reference there (the '&' is then literal).
// In attribute values a semicolon-less named reference followed by an alphanumeric or '='
// is not a reference (HTML5 "historical reasons" rule), e.g. "?a=1&copy=2".
size_t decode_reference(std::string_view s, size_t at, bool in_attribute, std::string& out) {
    size_t i = at + 1;
    if (i >= s.size()) return 0;

    if (s[i] == '#') {
        ++i;
        const bool hex = i < s.size() && (s[i] == 'x' || s[i] == 'X');
        if (hex) ++i;
        const size_t digits_start = i;
        uint32_t value = 0;
        while (i < s.size() && (hex ? is_hex(s[i]) : is_digit(s[i]))) {
            const char c = s[i];
            const uint32_t d = is_digit(c) ? static_cast<uint32_t>(c - '0')
                                           : static_cast<uint32_t>(to_lower(c) - 'a' + 10);
            // Saturate instead of overflowing: anything this large is invalid anyway.
            value = std::min<uint32_t>(value * (hex ? 16 : 10) + d, 0x110000);
            ++i;
        }
        if (i == digits_start) return 0;
        if (i < s.size() && s[i] == ';') ++i;
        char32_t cp = value;
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            cp = 0xFFFD;
        } else if (cp >= 0x80 && cp <= 0x9F && kC1Remap[cp - 0x80] != 0) {
            cp = kC1Remap[cp - 0x80];
        }
        append_utf8(out, cp);
        return i - at;
    }

    if (!is_alpha(s[i])) return 0;

    // Named reference with ';': the full table, courtesy of cmark-gfm. houdini reads at most
    // a few dozen bytes, so the length handed over is bounded.
    const size_t avail = std::min<size_t>(s.size() - i, 64);
    cmark_strbuf buf;
    cmark_strbuf_init(cmark_get_default_mem_allocator(), &buf, 0);
    const bufsize_t used = houdini_unescape_ent(
        &buf, reinterpret_cast<const uint8_t*>(s.data() + i), static_cast<bufsize_t>(avail));
    if (used > 0) {
        out.append(reinterpret_cast<const char*>(buf.ptr), static_cast<size_t>(buf.size));
        cmark_strbuf_free(&buf);
        return static_cast<size_t>(used) + 1;
    }
    cmark_strbuf_free(&buf);

    for (const auto& e : kLegacyEntities) {
        if (s.substr(i, e.name.size()) != e.name) continue;
        const size_t end = i + e.name.size();
        if (in_attribute && end < s.size() && (is_alnum(s[end]) || s[end] == '=')) return 0;
        out += e.value;
        return end - at;
    }
    return 0;
}

std::string decode(std::string_view s, bool in_attribute) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        if (s[i] == '&') {
            if (const size_t used = decode_reference(s, i, in_attribute, out)) {
                i += used;
                continue;
            }
        }
        out += s[i++];
    }
    return out;
}

void append_escaped(std::string& out, std::string_view s) {
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '\'':
                out += "&#39;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\r':
                out += "&#13;";
                break;
            default:
                out += c;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Attribute value checks.

enum class Check {
    Url,        // relative, or http/https/mailto
    Paragraph,  // bluemonday's "Paragraph": letters, digits, spaces and mild punctuation
    Id,
    Dir,
    Lang,
    Integer,
    Number,
    Open,
    DateTime,
    ImgAlign,
    CellAlign,
    CellVAlign,
    Scope,
    ListType,
};

// Returns the value to write back, or nullopt to drop the attribute.
std::optional<std::string> check_url(std::string_view v) {
    while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
    while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    // Browsers silently drop tabs and newlines inside URLs ("java\tscript:"), and Go's URL
    // parser, which the original relies on, rejects control characters and spaces; refusing
    // them outright means the scheme we check below is the scheme the browser will see.
    for (const char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F) return std::nullopt;
    }
    // Scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" (RFC 3986, WHATWG URL).
    size_t i = 0;
    if (is_alpha(v[0])) {
        i = 1;
        while (i < v.size() && (is_alnum(v[i]) || v[i] == '+' || v[i] == '-' || v[i] == '.')) {
            ++i;
        }
        if (i < v.size() && v[i] == ':') {
            const std::string scheme = lower(v.substr(0, i));
            if (scheme == "http" || scheme == "https" || scheme == "mailto") {
                return std::string(v);
            }
            return std::nullopt;
        }
    }
    // Relative reference: a ':' in the first path segment would make some parsers read a
    // scheme after all (Go refuses such URLs), so refuse it too.
    const size_t segment_end = v.find_first_of("/?#");
    if (v.substr(0, segment_end).find(':') != std::string_view::npos) return std::nullopt;
    return std::string(v);
}

bool all_of(std::string_view v, bool (*pred)(char)) {
    return std::all_of(v.begin(), v.end(), pred);
}

bool iequals_any(std::string_view v, std::initializer_list<std::string_view> words) {
    const std::string l = lower(v);
    return std::find(words.begin(), words.end(), l) != words.end();
}

std::optional<std::string> check_value(Check check, std::string_view v) {
    const auto keep = [&](bool ok) -> std::optional<std::string> {
        if (ok) return std::string(v);
        return std::nullopt;
    };
    switch (check) {
        case Check::Url:
            return check_url(v);
        case Check::Paragraph: {
            static const RE2 paragraph(R"(^[\p{L}\p{N}\s\-_',:\[\]!\./\\\(\)&]*$)");
            return keep(RE2::FullMatch(v, paragraph));
        }
        case Check::Id:
            return keep(!v.empty() && all_of(v, [](char c) {
                return is_alnum(c) || c == ':' || c == '-' || c == '_' || c == '.';
            }));
        case Check::Dir:
            return keep(iequals_any(v, {"rtl", "ltr"}));
        case Check::Lang: {
            static const RE2 lang(R"(^[a-zA-Z]{2,20}(?:-[a-zA-Z0-9]{1,20})*$)");
            return keep(RE2::FullMatch(v, lang));
        }
        case Check::Integer:
            return keep(!v.empty() && v.size() <= 9 && all_of(v, is_digit));
        case Check::Number: {
            static const RE2 number(R"(^[-+]?[0-9]{1,15}(?:\.[0-9]{1,15})?$)");
            return keep(RE2::FullMatch(v, number));
        }
        case Check::Open:
            return keep(iequals_any(v, {"", "open"}));
        case Check::DateTime: {
            static const RE2 datetime(R"(^[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?)"
                                      R"((?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)?)"
                                      R"((?:Z|[+-][0-9]{2}:?[0-9]{2})?$)");
            return keep(RE2::FullMatch(v, datetime));
        }
        case Check::ImgAlign:
            return keep(iequals_any(v, {"left", "right", "top", "texttop", "middle", "absmiddle",
                                        "baseline", "bottom", "absbottom"}));
        case Check::CellAlign:
            return keep(iequals_any(v, {"center", "justify", "left", "right", "char"}));
        case Check::CellVAlign:
            return keep(iequals_any(v, {"baseline", "bottom", "middle", "top"}));
        case Check::Scope:
            return keep(iequals_any(v, {"row", "col", "rowgroup", "colgroup"}));
        case Check::ListType:
            return keep(v == "1" || v == "a" || v == "A" || v == "i" || v == "I" ||
                        iequals_any(v, {"circle", "disc", "square"}));
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// The policy.

struct AttrRule {
    std::string_view name;
    Check check;
};

struct ElementRule {
    std::string_view name;
    bool is_void = false;
    // Like bluemonday, a link or image left without any attribute is pointless and is
    // dropped (its text is kept, and the matching end tag is dropped too).
    bool needs_attrs = false;
    std::vector<AttrRule> attrs;
};

constexpr std::array<AttrRule, 4> kGlobalAttrs = {{
    {"id", Check::Id},
    {"title", Check::Paragraph},
    {"dir", Check::Dir},
    {"lang", Check::Lang},
}};

const std::vector<ElementRule>& element_rules() {
    static const std::vector<ElementRule> rules = [] {
        std::vector<ElementRule> r;
        // Elements allowed with the global attributes only.
        for (const std::string_view name : {
                 "p",       "div",        "span",   "h1",      "h2",     "h3",      "h4",
                 "h5",      "h6",         "hgroup", "article", "aside",  "section", "figure",
                 "summary", "figcaption", "abbr",   "acronym", "cite",   "code",    "dfn",
                 "em",      "mark",       "s",      "samp",    "strong", "sub",     "sup",
                 "var",     "b",          "i",      "pre",     "small",  "strike",  "tt",
                 "u",       "del",        "ins",    "bdi",     "bdo",    "rp",      "rt",
                 "ruby",    "dl",         "dt",     "dd",      "table",  "caption",
             }) {
            r.push_back({name, false, false, {}});
        }
        for (const std::string_view name : {"br", "hr", "wbr"}) {
            r.push_back({name, true, false, {}});
        }
        r.push_back({"a", false, true, {{"href", Check::Url}}});
        r.push_back({"img",
                     true,
                     true,
                     {{"src", Check::Url},
                      {"alt", Check::Paragraph},
                      {"width", Check::Integer},
                      {"height", Check::Integer},
                      {"align", Check::ImgAlign}}});
        r.push_back({"area", true, true, {}});
        r.push_back({"blockquote", false, false, {{"cite", Check::Url}}});
        r.push_back({"q", false, false, {{"cite", Check::Url}}});
        r.push_back({"details", false, false, {{"open", Check::Open}}});
        r.push_back({"time", false, false, {{"datetime", Check::DateTime}}});
        // cmark numbers ordered lists with start="N"; keeping it is harmless.
        r.push_back({"ol", false, false, {{"type", Check::ListType}, {"start", Check::Integer}}});
        r.push_back({"ul", false, false, {{"type", Check::ListType}}});
        r.push_back({"li", false, false, {{"value", Check::Integer}}});
        // Table alignment is how GFM tables express column alignment (align="center").
        const std::vector<AttrRule> cell = {
            {"align", Check::CellAlign}, {"valign", Check::CellVAlign}, {"colspan", Check::Integer},
            {"rowspan", Check::Integer}, {"abbr", Check::Paragraph},    {"scope", Check::Scope}};
        r.push_back({"td", false, false, cell});
        r.push_back({"th", false, false, cell});
        const std::vector<AttrRule> row = {{"align", Check::CellAlign},
                                           {"valign", Check::CellVAlign}};
        for (const std::string_view name : {"tr", "thead", "tbody", "tfoot"}) {
            r.push_back({name, false, false, row});
        }
        const std::vector<AttrRule> col = {{"align", Check::CellAlign},
                                           {"valign", Check::CellVAlign},
                                           {"span", Check::Integer},
                                           {"width", Check::Integer}};
        r.push_back({"colgroup", false, false, col});
        r.push_back({"col", true, false, col});
        r.push_back({"meter",
                     false,
                     false,
                     {{"value", Check::Number},
                      {"min", Check::Number},
                      {"max", Check::Number},
                      {"low", Check::Number},
                      {"high", Check::Number},
                      {"optimum", Check::Number}}});
        r.push_back({"progress", false, false, {{"value", Check::Number}, {"max", Check::Number}}});
        std::sort(r.begin(), r.end(),
                  [](const ElementRule& a, const ElementRule& b) { return a.name < b.name; });
        return r;
    }();
    return rules;
}

const ElementRule* find_rule(std::string_view name) {
    const auto& rules = element_rules();
    const auto it =
        std::lower_bound(rules.begin(), rules.end(), name,
                         [](const ElementRule& r, std::string_view n) { return r.name < n; });
    if (it == rules.end() || it->name != name) return nullptr;
    return &*it;
}

// Elements whose content the tokenizer reads as plain text up to the matching end tag
// (HTML5 RAWTEXT/RCDATA/script data). Getting this right matters: "<style><b>x</b></style>"
// must not yield a <b>.
bool is_raw_text(std::string_view name) {
    static constexpr std::array<std::string_view, 10> kNames = {
        "iframe", "noembed", "noframes", "noscript", "plaintext",
        "script", "style",   "textarea", "title",    "xmp"};
    return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

// Raw-text elements whose content is thrown away rather than shown as text.
bool drops_raw_content(std::string_view name) {
    return name != "textarea" && name != "xmp" && name != "plaintext";
}

// Ordinary (tokenised) elements whose whole content is thrown away.
bool drops_content(std::string_view name) {
    return name == "object" || name == "frameset" || name == "nostyle";
}

struct Attr {
    std::string name;
    std::string raw_value;
};

struct Tag {
    std::string name;
    std::vector<Attr> attrs;
    bool end = false;
    bool self_closing = false;
};

class Sanitizer {
  public:
    explicit Sanitizer(std::string_view in) : in_(in) { out_.reserve(in.size() + 16); }

    std::string run() {
        while (pos_ < in_.size()) {
            const size_t lt = in_.find('<', pos_);
            if (lt == std::string_view::npos) {
                emit_text(in_.substr(pos_), false);
                break;
            }
            emit_text(in_.substr(pos_, lt - pos_), false);
            pos_ = lt;
            if (!markup()) {
                // A '<' that starts nothing is just a character.
                if (skip_depth_ == 0) out_ += "&lt;";
                ++pos_;
            }
        }
        return std::move(out_);
    }

  private:
    // Handles the construct at in_[pos_] == '<'. Returns false if it is plain text.
    bool markup() {
        const size_t n = in_.size();
        const size_t p = pos_ + 1;
        if (p >= n) return false;
        const char c = in_[p];
        if (is_alpha(c)) return tag(p, false);
        if (c == '/') {
            if (p + 1 >= n) return false;
            if (is_alpha(in_[p + 1])) return tag(p + 1, true);
            if (in_[p + 1] == '>') {
                pos_ = p + 2;  // "</>" is ignored by browsers
                return true;
            }
            skip_bogus_comment(p + 1);
            return true;
        }
        if (c == '!') {
            if (in_.compare(p, 3, "!--") == 0) {
                skip_comment(p + 3);
            } else {
                skip_bogus_comment(p + 1);
            }
            return true;
        }
        if (c == '?') {
            skip_bogus_comment(p + 1);
            return true;
        }
        return false;
    }

    // "<!-- ... -->": dropped. Also ends at "--!>", and "<!-->" / "<!--->" are complete.
    void skip_comment(size_t p) {
        if (in_.compare(p, 1, ">") == 0) {
            pos_ = p + 1;
            return;
        }
        if (in_.compare(p, 2, "->") == 0) {
            pos_ = p + 2;
            return;
        }
        size_t end = in_.find("--", p);
        while (end != std::string_view::npos) {
            if (in_.compare(end + 2, 1, ">") == 0) {
                pos_ = end + 3;
                return;
            }
            if (in_.compare(end + 2, 2, "!>") == 0) {
                pos_ = end + 4;
                return;
            }
            end = in_.find("--", end + 1);
        }
        pos_ = in_.size();
    }

    // "<!DOCTYPE ...>", "<?...>", "</3...>" and the like: dropped up to the next '>'.
    void skip_bogus_comment(size_t p) {
        const size_t gt = in_.find('>', p);
        pos_ = gt == std::string_view::npos ? in_.size() : gt + 1;
    }

    // Parses a start or end tag whose name starts at in_[p].
    bool tag(size_t p, bool end) {
        const size_t n = in_.size();
        Tag t;
        t.end = end;
        while (p < n && !is_space(in_[p]) && in_[p] != '/' && in_[p] != '>') {
            t.name += to_lower(in_[p++]);
        }
        for (;;) {
            while (p < n && (is_space(in_[p]) || in_[p] == '/')) {
                if (in_[p] == '/' && p + 1 < n && in_[p + 1] == '>') t.self_closing = true;
                ++p;
            }
            if (p >= n) {
                // A tag cut off by the end of input is discarded, as browsers do.
                pos_ = n;
                return true;
            }
            if (in_[p] == '>') {
                ++p;
                break;
            }
            t.self_closing = false;
            // Attribute name; a leading '=' belongs to the name (HTML5 quirk).
            const size_t name_start = p++;
            while (p < n && !is_space(in_[p]) && in_[p] != '/' && in_[p] != '>' && in_[p] != '=') {
                ++p;
            }
            Attr a;
            a.name = lower(in_.substr(name_start, p - name_start));
            size_t q = p;
            while (q < n && is_space(in_[q])) ++q;
            if (q < n && in_[q] == '=') {
                ++q;
                while (q < n && is_space(in_[q])) ++q;
                if (q >= n) {
                    pos_ = n;
                    return true;
                }
                if (in_[q] == '"' || in_[q] == '\'') {
                    const size_t close = in_.find(in_[q], q + 1);
                    if (close == std::string_view::npos) {
                        pos_ = n;
                        return true;
                    }
                    a.raw_value = std::string(in_.substr(q + 1, close - q - 1));
                    p = close + 1;
                } else {
                    const size_t v = q;
                    while (q < n && !is_space(in_[q]) && in_[q] != '>') ++q;
                    a.raw_value = std::string(in_.substr(v, q - v));
                    p = q;
                }
            }
            // Browsers keep the first of duplicated attributes.
            const bool dup = std::any_of(t.attrs.begin(), t.attrs.end(),
                                         [&](const Attr& x) { return x.name == a.name; });
            if (!dup && t.attrs.size() < 64) t.attrs.push_back(std::move(a));
        }
        pos_ = p;
        if (end) {
            end_tag(t.name);
        } else {
            start_tag(t);
            if (is_raw_text(t.name)) raw_text(t.name);
        }
        return true;
    }

    // Consumes the content of a raw-text element up to (not including) its end tag.
    void raw_text(const std::string& name) {
        const size_t n = in_.size();
        size_t p = pos_;
        size_t end = n;
        if (name != "plaintext") {
            for (;;) {
                p = in_.find("</", p);
                if (p == std::string_view::npos) break;
                const size_t after = p + 2 + name.size();
                if (iequals_prefix(in_, p + 2, name) && (after >= n || is_space(in_[after]) ||
                                                         in_[after] == '/' || in_[after] == '>')) {
                    end = p;
                    break;
                }
                p += 2;
            }
        }
        if (skip_depth_ == 0 && !drops_raw_content(name)) {
            emit_text(in_.substr(pos_, end - pos_), name != "textarea");
        }
        pos_ = end;
    }

    void start_tag(const Tag& t) {
        if (drops_content(t.name)) {
            if (!t.self_closing) ++skip_depth_;
            return;
        }
        if (skip_depth_ > 0) return;
        const ElementRule* rule = find_rule(t.name);
        if (rule == nullptr) return;

        std::string attrs;
        bool has_href = false;
        for (const Attr& a : t.attrs) {
            std::optional<Check> check;
            for (const AttrRule& g : kGlobalAttrs) {
                if (g.name == a.name) check = g.check;
            }
            for (const AttrRule& r : rule->attrs) {
                if (r.name == a.name) check = r.check;
            }
            if (!check) continue;
            const std::optional<std::string> value = check_value(*check, decode(a.raw_value, true));
            if (!value) continue;
            attrs += ' ';
            attrs += a.name;
            attrs += "=\"";
            append_escaped(attrs, *value);
            attrs += '"';
            if (a.name == "href") has_href = true;
        }
        if (attrs.empty() && rule->needs_attrs) {
            if (!rule->is_void) ++dropped_links_;
            return;
        }
        // User links must not pass on reputation (and the original adds this to all of them).
        if (has_href) attrs += " rel=\"nofollow\"";
        out_ += '<';
        out_ += rule->name;
        out_ += attrs;
        out_ += '>';
        if (!rule->is_void) ++open_[rule_index(rule)];
    }

    void end_tag(const std::string& name) {
        if (drops_content(name)) {
            if (skip_depth_ > 0) --skip_depth_;
            return;
        }
        if (skip_depth_ > 0) return;
        const ElementRule* rule = find_rule(name);
        if (rule == nullptr || rule->is_void) return;
        if (rule->needs_attrs && dropped_links_ > 0) {
            --dropped_links_;
            return;
        }
        // An end tag that closes nothing we wrote is dropped rather than passed on.
        int& open = open_[rule_index(rule)];
        if (open == 0) return;
        --open;
        out_ += "</";
        out_ += rule->name;
        out_ += '>';
    }

    void emit_text(std::string_view text, bool raw) {
        if (skip_depth_ > 0 || text.empty()) return;
        append_escaped(out_, raw ? std::string(text) : decode(text, false));
    }

    std::string_view in_;
    size_t pos_ = 0;
    std::string out_;
    int skip_depth_ = 0;
    // <a> tags that were dropped for lack of attributes, so that their end tags go too. Links
    // are the only non-void elements that need an attribute to be kept.
    int dropped_links_ = 0;
    // How many elements of each kind were written and not yet closed.
    std::vector<int> open_ = std::vector<int>(element_rules().size(), 0);

    static size_t rule_index(const ElementRule* rule) {
        return static_cast<size_t>(rule - element_rules().data());
    }
};

}  // namespace

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_escaped(out, text);
    return out;
}

std::string decode_html_entities(std::string_view text) {
    return decode(text, false);
}

std::string sanitize_html(std::string_view html) {
    // HTML5 input preprocessing: CR and CRLF become LF, NUL becomes U+FFFD.
    std::string normalized;
    if (html.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos) {
        normalized.reserve(html.size());
        for (size_t i = 0; i < html.size(); ++i) {
            if (html[i] == '\r') {
                normalized += '\n';
                if (i + 1 < html.size() && html[i + 1] == '\n') ++i;
            } else if (html[i] == '\0') {
                normalized += "\xEF\xBF\xBD";
            } else {
                normalized += html[i];
            }
        }
        html = normalized;
    }
    return Sanitizer(html).run();
}

}  // namespace barertc::media
