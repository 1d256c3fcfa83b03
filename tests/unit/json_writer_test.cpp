// Expected strings are what Go's encoding/json (Go 1.22+) produces for the same values.
#include "util/json_writer.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <limits>
#include <string>

namespace bj = boost::json;
using barertc::json::append_string;
using barertc::json::compact;
using barertc::json::indented;
using barertc::json::ObjectWriter;

namespace {

std::string quoted(std::string_view s) {
    std::string out;
    append_string(out, s);
    return out;
}

}  // namespace

TEST(JsonString, PlainAsciiIsRaw) {
    EXPECT_EQ(quoted(""), R"("")");
    EXPECT_EQ(quoted("hello world"), R"("hello world")");
    EXPECT_EQ(quoted("a'b/c~\x7f"), "\"a'b/c~\x7f\"");  // '/', quote and DEL are not escaped
}

TEST(JsonString, QuotesAndBackslash) {
    EXPECT_EQ(quoted(R"(say "hi" \o/)"), R"("say \"hi\" \\o/")");
}

TEST(JsonString, ShortEscapes) {
    EXPECT_EQ(quoted("a\nb\rc\td"), R"("a\nb\rc\td")");
    EXPECT_EQ(quoted("\b\f"), R"("\b\f")");
}

TEST(JsonString, OtherControlCharsAsLowercaseHex) {
    EXPECT_EQ(quoted(std::string_view("\0", 1)), R"("\u0000")");
    EXPECT_EQ(quoted("\x01\x0b\x1b\x1f"), R"("\u0001\u000b\u001b\u001f")");
}

TEST(JsonString, HtmlCharactersEscaped) {
    EXPECT_EQ(quoted("<script>&amp;</script>"),
              R"("\u003cscript\u003e\u0026amp;\u003c/script\u003e")");
}

TEST(JsonString, LineAndParagraphSeparatorsEscaped) {
    EXPECT_EQ(quoted("a\u2028b\u2029c"), R"("a\u2028b\u2029c")");
    // Neighbouring code points are left alone.
    EXPECT_EQ(quoted("\u2027\u202a"), "\"\u2027\u202a\"");
}

TEST(JsonString, ValidUtf8IsRaw) {
    EXPECT_EQ(quoted("héllo wörld"), "\"héllo wörld\"");
    EXPECT_EQ(quoted("日本語"), "\"日本語\"");
    EXPECT_EQ(quoted("🤖 emoji 😀"), "\"🤖 emoji 😀\"");
    EXPECT_EQ(quoted("\xef\xbf\xbd"), "\"\xef\xbf\xbd\"");          // a real U+FFFD stays raw
    EXPECT_EQ(quoted("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");  // U+10FFFF
}

TEST(JsonString, InvalidUtf8ReplacedPerByte) {
    // Go replaces every byte that does not start a valid sequence with the escape \ufffd.
    EXPECT_EQ(quoted("a\xff"
                     "b"),
              R"("a\ufffdb")");
    EXPECT_EQ(quoted("\x80"), R"("\ufffd")");
    EXPECT_EQ(quoted("\xc3"), R"("\ufffd")");  // truncated at the end
    EXPECT_EQ(quoted("\xe2\x82"
                     "A"),
              R"("\ufffd\ufffdA")");                                         // truncated mid-string
    EXPECT_EQ(quoted("\xc0\xaf"), R"("\ufffd\ufffd")");                      // overlong '/'
    EXPECT_EQ(quoted("\xe0\x80\xaf"), R"("\ufffd\ufffd\ufffd")");            // overlong 3-byte
    EXPECT_EQ(quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");            // surrogate U+D800
    EXPECT_EQ(quoted("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
    EXPECT_EQ(quoted("\xf5\x80"), R"("\ufffd\ufffd")");
    EXPECT_EQ(quoted("é\xffé"), "\"é\\ufffdé\"");
}

TEST(JsonString, AppendsToExistingContent) {
    std::string out = "x=";
    append_string(out, "<");
    EXPECT_EQ(out, R"(x="\u003c")");
}

TEST(JsonCompact, Scalars) {
    EXPECT_EQ(compact(nullptr), "null");
    EXPECT_EQ(compact(true), "true");
    EXPECT_EQ(compact(false), "false");
    EXPECT_EQ(compact(0), "0");
    EXPECT_EQ(compact(-42), "-42");
    EXPECT_EQ(compact(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
    EXPECT_EQ(compact(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
    EXPECT_EQ(compact("a&b"), R"("a\u0026b")");
}

TEST(JsonCompact, DoublesLikeGoFloat64) {
    EXPECT_EQ(compact(1.5), "1.5");
    EXPECT_EQ(compact(3.0), "3");
    EXPECT_EQ(compact(-0.25), "-0.25");
    EXPECT_EQ(compact(0.0), "0");
    EXPECT_EQ(compact(0.1), "0.1");
    EXPECT_EQ(compact(1e20), "100000000000000000000");
    EXPECT_EQ(compact(1e21), "1e+21");
    EXPECT_EQ(compact(1.5e300), "1.5e+300");
    EXPECT_EQ(compact(0.000001), "0.000001");
    EXPECT_EQ(compact(1e-7), "1e-7");
    EXPECT_EQ(compact(1.25e-10), "1.25e-10");
    EXPECT_EQ(compact(std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonCompact, NestedNoSpacesInsertionOrder) {
    bj::object o;
    o["zeta"] = 1;
    o["alpha"] = bj::array{1, "two", nullptr, false};
    o["mid"] = bj::object{};
    o["empty"] = bj::array{};
    o["<k>"] = "v";
    EXPECT_EQ(compact(o),
              R"({"zeta":1,"alpha":[1,"two",null,false],"mid":{},"empty":[],"\u003ck\u003e":"v"})");
}

TEST(JsonIndented, MatchesMarshalIndent) {
    bj::object o;
    o["OK"] = true;
    o["Usernames"] = bj::array{"alice"};
    EXPECT_EQ(indented(o), "{\n  \"OK\": true,\n  \"Usernames\": [\n    \"alice\"\n  ]\n}\n");
}

TEST(JsonIndented, EmptyContainersAndNesting) {
    EXPECT_EQ(indented(bj::object{}), "{}\n");
    EXPECT_EQ(indented(bj::array{}), "[]\n");
    EXPECT_EQ(indented(5), "5\n");

    bj::object o;
    o["UserCount"] = 0;
    o["Usernames"] = bj::array{};
    o["Meta"] = bj::object{};
    bj::object inner;
    inner["a"] = bj::array{1, bj::object{{"b", "c"}}};
    o["Nested"] = inner;
    EXPECT_EQ(indented(o),
              "{\n"
              "  \"UserCount\": 0,\n"
              "  \"Usernames\": [],\n"
              "  \"Meta\": {},\n"
              "  \"Nested\": {\n"
              "    \"a\": [\n"
              "      1,\n"
              "      {\n"
              "        \"b\": \"c\"\n"
              "      }\n"
              "    ]\n"
              "  }\n"
              "}\n");
}

TEST(JsonIndented, TopLevelArray) {
    EXPECT_EQ(indented(bj::array{"a", "b"}), "[\n  \"a\",\n  \"b\"\n]\n");
}

TEST(JsonObjectWriter, FieldsInOrderWithCommas) {
    std::string out;
    ObjectWriter w(out);
    w.field("action", "message")
        .field("username", "al<i>ce")
        .field("count", std::int64_t{-3})
        .field("op", true)
        .field("vip", false);
    w.close();
    EXPECT_EQ(out, R"({"action":"message","username":"al\u003ci\u003ece","count":-3,"op":true,)"
                   R"("vip":false})");
}

TEST(JsonObjectWriter, OmitEmptyHelpers) {
    std::string out;
    ObjectWriter w(out);
    w.field_nonempty("a", "")
        .field_nonzero("b", 0)
        .field_true("c", false)
        .field_nonempty("d", "x")
        .field_nonzero("e", 7)
        .field_true("f", true);
    w.close();
    EXPECT_EQ(out, R"({"d":"x","e":7,"f":true})");
}

TEST(JsonObjectWriter, EmptyObject) {
    std::string out;
    ObjectWriter w(out);
    w.close();
    EXPECT_EQ(out, "{}");
}

TEST(JsonObjectWriter, RawAndKey) {
    std::string out = "prefix ";
    ObjectWriter w(out);
    w.raw("whoList", R"([{"username":"a"}])");
    w.key("n");
    out += "null";
    w.field("s", std::string("str"));
    w.close();
    EXPECT_EQ(out, R"(prefix {"whoList":[{"username":"a"}],"n":null,"s":"str"})");
}

TEST(JsonObjectWriter, StringLiteralIsAStringNotABool) {
    std::string out;
    ObjectWriter w(out);
    w.field("k", "v");
    w.close();
    EXPECT_EQ(out, R"({"k":"v"})");
}
