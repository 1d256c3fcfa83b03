#include "media/markdown.hpp"

#include "media/html_sanitizer.hpp"
#include "media/youtube.hpp"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace barertc::media {

namespace {

// Smart pointers so that every exit path frees the C objects.
struct ParserFree {
    void operator()(cmark_parser* p) const { cmark_parser_free(p); }
};
struct NodeFree {
    void operator()(cmark_node* n) const { cmark_node_free(n); }
};
struct IterFree {
    void operator()(cmark_iter* i) const { cmark_iter_free(i); }
};
using ParserPtr = std::unique_ptr<cmark_parser, ParserFree>;
using NodePtr = std::unique_ptr<cmark_node, NodeFree>;
using IterPtr = std::unique_ptr<cmark_iter, IterFree>;

// UNSAFE: raw HTML is kept so that the sanitiser, not cmark, decides what survives (allowed
// tags like <b> stay, <script> goes with its content). DOUBLE_TILDE: the original only knows
// ~~strike~~. VALIDATE_UTF8: the output ends up in JSON, so broken bytes become U+FFFD.
constexpr int kOptions =
    CMARK_OPT_UNSAFE | CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE | CMARK_OPT_VALIDATE_UTF8;

void ensure_extensions_registered() {
    // cmark's extension registry is a plain global list: register once, before any parser.
    static std::once_flag once;
    std::call_once(once, [] { cmark_gfm_core_extensions_ensure_registered(); });
}

bool is_ascii_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || is_ascii_letter(static_cast<char>(c));
}

// Length of the UTF-8 sequence starting with `lead` (1 for stray continuation bytes, so
// that broken input still advances).
size_t utf8_length(unsigned char lead) {
    if (lead >= 0xF0) return 4;
    if (lead >= 0xE0) return 3;
    if (lead >= 0xC0) return 2;
    return 1;
}

// GitHub-style anchor name: runs of letters and digits, lowercased, joined by single '-'.
// Non-ASCII letters are kept as they are (no Unicode case folding here).
std::string heading_slug(std::string_view text) {
    static const RE2 letter_or_digit(R"([\p{L}\p{N}])");
    std::string slug;
    bool pending_dash = false;
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        const size_t len = std::min(utf8_length(c), text.size() - i);
        const std::string_view ch = text.substr(i, len);
        i += len;
        const bool keep = c < 0x80 ? is_ascii_alnum(c) : RE2::FullMatch(ch, letter_or_digit);
        if (!keep) {
            pending_dash = true;
            continue;
        }
        if (pending_dash && !slug.empty()) slug += '-';
        pending_dash = false;
        if (c >= 'A' && c <= 'Z') {
            slug += static_cast<char>(c - 'A' + 'a');
        } else {
            slug += ch;
        }
    }
    return slug;
}

// The visible text of a heading, as a browser would show it: image alt text and raw HTML
// tags do not count.
std::string heading_text(cmark_node* heading) {
    std::string text;
    int in_image = 0;
    IterPtr it(cmark_iter_new(heading));
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
        cmark_node* node = cmark_iter_get_node(it.get());
        const cmark_node_type type = cmark_node_get_type(node);
        if (type == CMARK_NODE_IMAGE) {
            in_image += ev == CMARK_EVENT_ENTER ? 1 : -1;
            continue;
        }
        if (ev != CMARK_EVENT_ENTER || in_image > 0) continue;
        if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE) {
            if (const char* lit = cmark_node_get_literal(node)) text += lit;
        } else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK) {
            text += '\n';
        }
    }
    return text;
}

bool is_fenced(cmark_node* code_block) {
    // cmark writes through all three out-parameters, so none may be null.
    int length = 0;
    int offset = 0;
    char fence_char = 0;
    return cmark_node_get_fenced(code_block, &length, &offset, &fence_char) != 0;
}

// Reshapes the tree where the original's renderer (blackfriday + GitHub renderer) differs
// from cmark's defaults, so that the sanitised output comes out the same:
//  * headings start with an anchor link "<a href="#slug"><span></span></a>";
//  * fenced code with a language becomes <div><pre>…</pre></div> (the original's
//    highlighting wrapper with its classes stripped), without <code>.
void adapt_tree(cmark_node* doc) {
    std::vector<cmark_node*> headings;
    std::vector<cmark_node*> fenced;
    {
        IterPtr it(cmark_iter_new(doc));
        cmark_event_type ev;
        while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
            if (ev != CMARK_EVENT_ENTER) continue;
            cmark_node* node = cmark_iter_get_node(it.get());
            const cmark_node_type type = cmark_node_get_type(node);
            if (type == CMARK_NODE_HEADING) {
                headings.push_back(node);
            } else if (type == CMARK_NODE_CODE_BLOCK && is_fenced(node)) {
                const char* info = cmark_node_get_fence_info(node);
                const std::string_view lang = info ? info : "";
                if (lang.find_first_not_of(" \t") != std::string_view::npos) {
                    fenced.push_back(node);
                }
            }
        }
    }

    for (cmark_node* heading : headings) {
        const std::string anchor =
            "<a href=\"#" + heading_slug(heading_text(heading)) + "\"><span></span></a>";
        cmark_node* html = cmark_node_new(CMARK_NODE_HTML_INLINE);
        cmark_node_set_literal(html, anchor.c_str());
        if (!cmark_node_prepend_child(heading, html)) cmark_node_free(html);
    }

    for (cmark_node* code : fenced) {
        const char* literal = cmark_node_get_literal(code);
        const std::string block =
            "<div><pre>" + escape_html(literal ? literal : "") + "</pre></div>\n";
        cmark_node* html = cmark_node_new(CMARK_NODE_HTML_BLOCK);
        cmark_node_set_literal(html, block.c_str());
        if (cmark_node_replace(code, html)) {
            cmark_node_free(code);
        } else {
            cmark_node_free(html);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Input guards.
//
// The packaged cmark-gfm (0.29.0.gfm.6) predates several upstream fixes for super-linear
// parsing (CVE-2023-22483/22486/24824/26485 and friends). Measured here: every inline node
// costs a walk up all enclosing containers, so deep nesting times many inlines is quadratic;
// "![[]()" repeated is quadratic in the bracket stack; header rows with thousands of columns
// and short rows auto-filled to a wide header blow up. The checks below are one linear pass
// that keeps those products small; inputs that fail them are shown as plain text (or without
// tables) instead of costing seconds of CPU per message.

// Beyond this size Markdown is not worth the risk: the text is shown as plain text.
constexpr size_t kMaxMarkdownBytes = 256 * 1024;
// Container nesting (block quotes, list items) allowed before falling back to plain text.
constexpr size_t kMaxNesting = 32;
// Upper bound for (image openers "![") x (closing brackets): the cost of link matching.
constexpr uint64_t kMaxBracketWork = uint64_t{1} << 22;
// Upper bound for (table columns) x (lines): the cells a table could be padded out to.
constexpr uint64_t kMaxTableCells = uint64_t{1} << 18;
// Wider tables are quadratic to parse even when short.
constexpr size_t kMaxTableColumns = 128;

struct InputProfile {
    bool plain_only = false;
    bool tables = true;
};

// "- - - -" or "* * *" up to the end of the line is a thematic break, not nested lists.
bool is_thematic_break(std::string_view rest) {
    const char c = rest.front();
    size_t count = 0;
    for (const char x : rest) {
        if (x == c) {
            ++count;
        } else if (x != ' ' && x != '\t') {
            return false;
        }
    }
    return count >= 3;
}

// Whether the line may nest containers deeper than kMaxNesting. Over-estimates: each '>',
// each list marker and every two columns of leading indentation can open at most one level
// (a nested list item needs at least two columns more than its parent). Lazy continuation
// lines add no depth of their own. Stops as soon as the limit is passed, which also keeps
// the thematic-break checks below from scanning a long line more than kMaxNesting times.
bool nests_too_deep(std::string_view line) {
    size_t markers = 0;
    size_t indent = 0;
    size_t i = 0;
    const auto marker_ends = [&](size_t at) {
        return at >= line.size() || line[at] == ' ' || line[at] == '\t';
    };
    while (markers + indent / 2 <= kMaxNesting) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            indent += line[i] == '\t' ? 4 : 1;
            ++i;
        }
        if (i >= line.size()) break;
        const char c = line[i];
        if (c == '>') {
            ++markers;
            ++i;
            continue;
        }
        if ((c == '-' || c == '+' || c == '*') && marker_ends(i + 1)) {
            if (c != '+' && is_thematic_break(line.substr(i))) break;
            ++markers;
            ++i;
            continue;
        }
        size_t d = i;
        while (d < line.size() && d - i < 9 && line[d] >= '0' && line[d] <= '9') ++d;
        if (d > i && d < line.size() && (line[d] == '.' || line[d] == ')') && marker_ends(d + 1)) {
            ++markers;
            i = d + 1;
            continue;
        }
        break;
    }
    return markers + indent / 2 > kMaxNesting;
}

InputProfile profile_input(std::string_view text) {
    InputProfile profile;
    if (text.size() > kMaxMarkdownBytes) {
        profile.plain_only = true;
        return profile;
    }
    uint64_t image_openers = 0;
    uint64_t close_brackets = 0;
    uint64_t lines = 0;
    size_t max_pipes = 0;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        ++lines;
        if (nests_too_deep(line)) {
            profile.plain_only = true;
            return profile;
        }
        size_t pipes = 0;
        for (size_t i = 0; i < line.size(); ++i) {
            switch (line[i]) {
                case '|':
                    ++pipes;
                    break;
                case ']':
                    ++close_brackets;
                    break;
                case '[':
                    if (i > 0 && line[i - 1] == '!') ++image_openers;
                    break;
                default:
                    break;
            }
        }
        max_pipes = std::max(max_pipes, pipes);
        start = end + 1;
    }
    if (image_openers * close_brackets > kMaxBracketWork) profile.plain_only = true;
    if (max_pipes > kMaxTableColumns || (max_pipes + 1) * lines > kMaxTableCells) {
        profile.tables = false;
    }
    return profile;
}

// Valid UTF-8 with broken sequences (and NUL) replaced by U+FFFD, as cmark does for the
// Markdown path: the result ends up in JSON.
std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0;
        uint32_t min = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        }
        bool ok = len > 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            ok = (cc & 0xC0) == 0x80;
            cp = (cp << 6) | (cc & 0x3F);
        }
        ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!ok) {
            out += kReplacement;
            ++i;
            continue;
        }
        out.append(s.substr(i, len));
        i += len;
    }
    return out;
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\n\v\f\r";
    const size_t first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    const size_t last = s.find_last_not_of(kSpace);
    return s.substr(first, last - first + 1);
}

// What a message that cannot safely go through Markdown looks like: one escaped paragraph.
std::string plain_paragraph(std::string_view text) {
    const std::string_view body = trim(text);
    if (body.empty()) return {};
    return "<p>" + escape_html(valid_utf8(body)) + "</p>";
}

// ---------------------------------------------------------------------------------------
// Autolinking of bare URLs.
//
// Done on the tree rather than with cmark-gfm's "autolink" extension: that extension is
// quadratic on inputs like "www.a_" repeated and has a known out-of-bounds read in this
// version, and the original (blackfriday) only links scheme URLs anyway: http://, https://
// and ftp:// (the last is then dropped by the sanitiser), not "www." or bare e-mail addresses.

bool is_url_end(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '<';
}

bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (x != b[i]) return false;
    }
    return true;
}

// Drops trailing characters that more likely belong to the sentence than to the URL: one
// '.', ',' or ';', and closing brackets or quotes that have no partner inside the URL
// ("(see https://x/a_(b))" keeps "a_(b)").
size_t trim_url_end(std::string_view url) {
    size_t end = url.size();
    if (url[end - 1] == '.' || url[end - 1] == ',' || url[end - 1] == ';') --end;
    constexpr std::string_view kOpen = "([{";
    constexpr std::string_view kClose = ")]}";
    std::array<size_t, 3> opens{};
    std::array<size_t, 3> closes{};
    size_t double_quotes = 0;
    size_t single_quotes = 0;
    for (size_t i = 0; i < end; ++i) {
        if (const size_t k = kOpen.find(url[i]); k != std::string_view::npos) ++opens[k];
        if (const size_t k = kClose.find(url[i]); k != std::string_view::npos) ++closes[k];
        if (url[i] == '"') ++double_quotes;
        if (url[i] == '\'') ++single_quotes;
    }
    while (end > 0) {
        const char last = url[end - 1];
        if (const size_t k = kClose.find(last);
            k != std::string_view::npos && closes[k] > opens[k]) {
            --closes[k];
        } else if (last == '"' && double_quotes % 2 == 1) {
            --double_quotes;
        } else if (last == '\'' && single_quotes % 2 == 1) {
            --single_quotes;
        } else {
            break;
        }
        --end;
    }
    return end;
}

struct UrlSpan {
    size_t begin;
    size_t end;
};

std::vector<UrlSpan> find_urls(std::string_view text) {
    std::vector<UrlSpan> spans;
    size_t from = 0;
    size_t searched = 0;
    for (;;) {
        const size_t colon = text.find("://", searched);
        if (colon == std::string_view::npos) break;
        searched = colon + 3;
        if (colon < from) continue;
        // The scheme is the whole run of letters right before "://"; "xhttp://" is no link.
        size_t begin = colon;
        while (begin > from && colon - begin < 7 && is_ascii_letter(text[begin - 1])) --begin;
        const std::string_view scheme = text.substr(begin, colon - begin);
        if (!ascii_iequals(scheme, "http") && !ascii_iequals(scheme, "https") &&
            !ascii_iequals(scheme, "ftp")) {
            continue;
        }
        if (colon + 3 >= text.size() ||
            !is_ascii_alnum(static_cast<unsigned char>(text[colon + 3]))) {
            continue;
        }
        size_t end = colon + 3;
        while (end < text.size() && !is_url_end(text[end])) ++end;
        end = begin + trim_url_end(text.substr(begin, end - begin));
        if (end <= colon + 3) continue;
        spans.push_back({begin, end});
        from = end;
        searched = std::max(searched, end);
    }
    return spans;
}

cmark_node* new_text(const std::string& literal) {
    cmark_node* node = cmark_node_new(CMARK_NODE_TEXT);
    cmark_node_set_literal(node, literal.c_str());
    return node;
}

// Replaces URLs inside one text node by links (text, link, text, link, ..., text).
void link_urls_in(cmark_node* text_node) {
    const char* lit = cmark_node_get_literal(text_node);
    if (lit == nullptr) return;
    const std::string literal(lit);
    const std::vector<UrlSpan> spans = find_urls(literal);
    if (spans.empty()) return;

    cmark_node_set_literal(text_node, literal.substr(0, spans.front().begin).c_str());
    cmark_node* last = text_node;
    for (size_t k = 0; k < spans.size(); ++k) {
        const std::string url = literal.substr(spans[k].begin, spans[k].end - spans[k].begin);
        cmark_node* link = cmark_node_new(CMARK_NODE_LINK);
        cmark_node_set_url(link, url.c_str());
        cmark_node_append_child(link, new_text(url));
        cmark_node_insert_after(last, link);
        last = link;
        const size_t tail_end = k + 1 < spans.size() ? spans[k + 1].begin : literal.size();
        if (tail_end > spans[k].end) {
            cmark_node* tail = new_text(literal.substr(spans[k].end, tail_end - spans[k].end));
            cmark_node_insert_after(last, tail);
            last = tail;
        }
    }
}

// Raw "<a ...>" written by the user: its text must not be linked a second time.
bool opens_anchor(std::string_view html) {
    return html.size() >= 3 && (html[1] == 'a' || html[1] == 'A') &&
           (html[2] == ' ' || html[2] == '>' || html[2] == '\t' || html[2] == '\n');
}
bool closes_anchor(std::string_view html) {
    return html.size() >= 3 && html[1] == '/' && (html[2] == 'a' || html[2] == 'A');
}

void autolink(cmark_node* doc) {
    // Adjacent text nodes (cmark splits text at every special character) must be merged so
    // that a URL such as "https://x/a_b" is seen whole.
    cmark_consolidate_text_nodes(doc);
    std::vector<cmark_node*> texts;
    {
        int in_link = 0;
        bool in_raw_anchor = false;
        IterPtr it(cmark_iter_new(doc));
        cmark_event_type ev;
        while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
            cmark_node* node = cmark_iter_get_node(it.get());
            const cmark_node_type type = cmark_node_get_type(node);
            if (type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE) {
                in_link += ev == CMARK_EVENT_ENTER ? 1 : -1;
            } else if (type == CMARK_NODE_PARAGRAPH || type == CMARK_NODE_HEADING) {
                in_raw_anchor = false;
            } else if (type == CMARK_NODE_HTML_INLINE) {
                const char* lit = cmark_node_get_literal(node);
                const std::string_view html = lit ? lit : "";
                if (opens_anchor(html)) in_raw_anchor = true;
                if (closes_anchor(html)) in_raw_anchor = false;
            } else if (type == CMARK_NODE_TEXT && in_link == 0 && !in_raw_anchor) {
                texts.push_back(node);
            }
        }
    }
    for (cmark_node* node : texts) link_urls_in(node);
}

void attach_extension(cmark_parser* parser, const char* name) {
    if (cmark_syntax_extension* ext = cmark_find_syntax_extension(name)) {
        cmark_parser_attach_syntax_extension(parser, ext);
    }
}

}  // namespace

std::string render_markdown(std::string_view text) {
    const InputProfile profile = profile_input(text);
    if (profile.plain_only) return plain_paragraph(text);

    ensure_extensions_registered();
    ParserPtr parser(cmark_parser_new(kOptions));
    if (!parser) return {};
    if (profile.tables) attach_extension(parser.get(), "table");
    attach_extension(parser.get(), "strikethrough");

    cmark_parser_feed(parser.get(), text.data(), text.size());
    NodePtr doc(cmark_parser_finish(parser.get()));
    if (!doc) return {};
    autolink(doc.get());
    adapt_tree(doc.get());

    char* raw =
        cmark_render_html(doc.get(), kOptions, cmark_parser_get_syntax_extensions(parser.get()));
    if (raw == nullptr) return {};
    const std::string html(raw);
    cmark_get_default_mem_allocator()->free(raw);

    return std::string(trim(sanitize_html(html)));
}

std::string render_chat_message(std::string_view text) {
    std::string html = render_markdown(text);
    if (html.empty()) return html;
    return append_youtube_embed(std::move(html));
}

}  // namespace barertc::media
