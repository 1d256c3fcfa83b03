#include "config/settings.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

namespace barertc::config {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------------------
// Decoding

// Thrown while decoding; load_or_create turns it into "<file>:<line>:<column>: <message>".
struct DecodeError {
    toml::source_position where;
    std::string message;
};

std::string_view describe(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

[[noreturn]] void mismatch(const toml::node& node, const std::string& key_path,
                           std::string_view expected) {
    throw DecodeError{node.source().begin, key_path + ": expected " + std::string(expected) +
                                               ", found " + std::string(describe(node.type()))};
}

// Reads the keys of one TOML table into fields, remembering which keys it was asked about so
// that the others can be reported as unknown (decisions.md §7) rather than silently ignored.
class TableReader {
  public:
    TableReader(const toml::table& table, std::string prefix, std::vector<std::string>& unknown)
        : table_(table), prefix_(std::move(prefix)), unknown_(unknown) {}

    void read(std::string_view key, std::string& out) {
        const toml::node* node = find(key);
        if (node == nullptr) return;
        const auto* value = node->as_string();
        if (value == nullptr) mismatch(*node, path_of(key), "a string");
        out = value->get();
    }

    void read(std::string_view key, bool& out) {
        const toml::node* node = find(key);
        if (node == nullptr) return;
        const auto* value = node->as_boolean();
        if (value == nullptr) mismatch(*node, path_of(key), "a boolean");
        out = value->get();
    }

    void read(std::string_view key, std::int64_t& out) {
        const toml::node* node = find(key);
        if (node == nullptr) return;
        const auto* value = node->as_integer();
        if (value == nullptr) mismatch(*node, path_of(key), "an integer");
        out = value->get();
    }

    void read(std::string_view key, std::vector<std::string>& out) {
        const toml::node* node = find(key);
        if (node == nullptr) return;
        const auto* array = node->as_array();
        if (array == nullptr) mismatch(*node, path_of(key), "an array of strings");
        std::vector<std::string> items;
        items.reserve(array->size());
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = *array->get(i);
            const auto* value = element.as_string();
            if (value == nullptr) {
                mismatch(element, path_of(key) + "[" + std::to_string(i) + "]", "a string");
            }
            items.push_back(value->get());
        }
        out = std::move(items);
    }

    // A [Table]: decoded over `out`, so keys it lacks keep their current value.
    template <class T, class Decode>
    void table(std::string_view key, T& out, Decode decode) {
        const toml::node* node = find(key);
        if (node == nullptr) return;
        const auto* sub = node->as_table();
        if (sub == nullptr) mismatch(*node, path_of(key), "a table");
        TableReader reader(*sub, path_of(key), unknown_);
        decode(reader, out);
        reader.report_unknown();
    }

    // An [[ArrayOfTables]]: when present it replaces the whole list; each element starts from
    // the struct's defaults. An empty inline array (`Key = []`) empties the list.
    template <class T, class Decode>
    void table_array(std::string_view key, std::vector<T>& out, Decode decode) {
        const toml::node* node = find(key);
        if (node == nullptr) return;
        const auto* array = node->as_array();
        if (array == nullptr) mismatch(*node, path_of(key), "an array of tables");
        std::vector<T> items;
        items.reserve(array->size());
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = *array->get(i);
            const std::string element_path = path_of(key) + "[" + std::to_string(i) + "]";
            const auto* sub = element.as_table();
            if (sub == nullptr) mismatch(element, element_path, "a table");
            T item{};
            TableReader reader(*sub, element_path, unknown_);
            decode(reader, item);
            reader.report_unknown();
            items.push_back(std::move(item));
        }
        out = std::move(items);
    }

    void report_unknown() const {
        for (const auto& [key, node] : table_) {
            const std::string_view name = key.str();
            if (std::find(known_.begin(), known_.end(), name) == known_.end()) {
                unknown_.push_back(path_of(name));
            }
        }
    }

  private:
    const toml::node* find(std::string_view key) {
        known_.push_back(key);
        return table_.get(key);
    }

    std::string path_of(std::string_view key) const {
        if (prefix_.empty()) return std::string(key);
        return prefix_ + "." + std::string(key);
    }

    const toml::table& table_;
    std::string prefix_;
    std::vector<std::string>& unknown_;
    // Key names are string literals of the decode functions below, so views are safe.
    std::vector<std::string_view> known_;
};

void decode_jwt(TableReader& r, JwtSettings& jwt) {
    r.read("Enabled", jwt.enabled);
    r.read("Strict", jwt.strict);
    r.read("SecretKey", jwt.secret_key);
    r.read("LandingPageURL", jwt.landing_page_url);
}

void decode_turn(TableReader& r, TurnSettings& turn) {
    r.read("URLs", turn.urls);
    r.read("Username", turn.username);
    r.read("Credential", turn.credential);
    r.read("SharedSecret", turn.shared_secret);
    r.read("CredentialTTL", turn.credential_ttl);
}

void decode_channel(TableReader& r, PublicChannel& channel) {
    r.read("ID", channel.id);
    r.read("Name", channel.name);
    r.read("Icon", channel.icon);
    r.read("VIP", channel.vip);
    r.read("PermitPhotos", channel.permit_photos);
    r.read("WelcomeMessages", channel.welcome_messages);
    r.read("EchoMessagesOnJoin", channel.echo_messages_on_join);
}

void decode_webhook(TableReader& r, WebhookUrl& webhook) {
    r.read("Name", webhook.name);
    r.read("Enabled", webhook.enabled);
    r.read("URL", webhook.url);
}

void decode_vip(TableReader& r, VipSettings& vip) {
    r.read("Name", vip.name);
    r.read("Branding", vip.branding);
    r.read("Icon", vip.icon);
    r.read("MutuallySecret", vip.mutually_secret);
}

void decode_filter(TableReader& r, MessageFilter& filter) {
    r.read("Enabled", filter.enabled);
    r.read("PublicChannels", filter.public_channels);
    r.read("PrivateChannels", filter.private_channels);
    r.read("KeywordPhrases", filter.keyword_phrases);
    r.read("CensorMessage", filter.censor_message);
    r.read("ForwardMessage", filter.forward_message);
    r.read("ReportMessage", filter.report_message);
    r.read("ChatServerResponse", filter.chat_server_response);
}

void decode_rule(TableReader& r, ModerationRule& rule) {
    r.read("Username", rule.username);
    r.read("CameraAlwaysNSFW", rule.camera_always_nsfw);
    r.read("NoBroadcast", rule.no_broadcast);
    r.read("NoVideo", rule.no_video);
    r.read("NoImage", rule.no_image);
    r.read("NoDarkVideo", rule.no_dark_video);
}

void decode_dm_history(TableReader& r, DirectMessageHistory& history) {
    r.read("Enabled", history.enabled);
    r.read("SQLiteDatabase", history.sqlite_database);
    r.read("RetentionDays", history.retention_days);
    r.read("DisclaimerMessage", history.disclaimer_message);
}

void decode_link_spam(TableReader& r, DmLinkSpamProtection& spam) {
    r.read("Enabled", spam.enabled);
    r.read("MaxThreads", spam.max_threads);
    r.read("TimeLimit", spam.time_limit);
    r.read("BanHours", spam.ban_hours);
}

void decode_strings(TableReader& r, Strings& strings) {
    r.read("ModRuleErrorCameraAlwaysNSFW", strings.mod_rule_error_camera_always_nsfw);
    r.read("ModRuleErrorNoBroadcast", strings.mod_rule_error_no_broadcast);
    r.read("ModRuleErrorNoVideo", strings.mod_rule_error_no_video);
    r.read("ModRuleErrorNoImage", strings.mod_rule_error_no_image);
}

void decode_logging(TableReader& r, Logging& logging) {
    r.read("Enabled", logging.enabled);
    r.read("Directory", logging.directory);
    r.read("Channels", logging.channels);
    r.read("Usernames", logging.usernames);
}

void decode_limits(TableReader& r, Limits& limits) {
    r.read("OutboxSoftBytes", limits.outbox_soft_bytes);
    r.read("OutboxSoftSeconds", limits.outbox_soft_seconds);
    r.read("OutboxHardBytes", limits.outbox_hard_bytes);
    r.read("HTTPHeaderBytes", limits.http_header_bytes);
    r.read("HTTPBodyBytes", limits.http_body_bytes);
    r.read("HTTPHeaderTimeout", limits.http_header_timeout);
    r.read("HTTPIdleTimeout", limits.http_idle_timeout);
    r.read("MessagesPerSecond", limits.messages_per_second);
    r.read("MessageBurst", limits.message_burst);
    r.read("ConnectionsPerIP", limits.connections_per_ip);
    r.read("LoginsPerIPPerMinute", limits.logins_per_ip_per_minute);
    r.read("MaxConnections", limits.max_connections);
    r.read("WhoListDebounceMs", limits.who_list_debounce_ms);
    r.read("WebSocketIdleTimeout", limits.websocket_idle_timeout);
    r.read("MaxImageBytes", limits.max_image_bytes);
    r.read("MaxImagePixels", limits.max_image_pixels);
    r.read("MaxMessageLength", limits.max_message_length);
}

void decode_metrics(TableReader& r, Metrics& metrics) {
    r.read("Enabled", metrics.enabled);
}

// Decodes `root` over `s`. A missing Version decodes as 0 so that it triggers the upgrade.
void decode(const toml::table& root, Settings& s, std::vector<std::string>& unknown) {
    TableReader r(root, "", unknown);
    s.version = 0;
    r.read("Version", s.version);
    r.read("Title", s.title);
    r.read("Branding", s.branding);
    r.read("WebsiteURL", s.website_url);
    r.read("CORSHosts", s.cors_hosts);
    r.read("AdminAPIKey", s.admin_api_key);
    r.read("PermitNSFW", s.permit_nsfw);
    r.read("BlockableAdmins", s.blockable_admins);
    r.read("UseXForwardedFor", s.use_x_forwarded_for);
    r.read("WebSocketReadLimit", s.websocket_read_limit);
    r.read("WebSocketSendTimeout", s.websocket_send_timeout);
    r.read("MaxImageWidth", s.max_image_width);
    r.read("PreviewImageWidth", s.preview_image_width);
    r.table("JWT", s.jwt, decode_jwt);
    r.table("TURN", s.turn, decode_turn);
    r.table_array("PublicChannels", s.public_channels, decode_channel);
    r.table_array("WebhookURLs", s.webhook_urls, decode_webhook);
    r.table("VIP", s.vip, decode_vip);
    r.table_array("MessageFilters", s.message_filters, decode_filter);
    r.table_array("ModerationRule", s.moderation_rules, decode_rule);
    r.table("DirectMessageHistory", s.direct_message_history, decode_dm_history);
    r.table("DMLinkSpamProtection", s.dm_link_spam_protection, decode_link_spam);
    r.table("Strings", s.strings, decode_strings);
    r.table("Logging", s.logging, decode_logging);
    r.table("Limits", s.limits, decode_limits);
    r.table("Metrics", s.metrics, decode_metrics);
    r.report_unknown();
}

// ---------------------------------------------------------------------------------------------
// Encoding

std::string quote(std::string_view text) {
    // toml++ 3.3 chooses a single-line literal string even when the text holds a line feed,
    // which is not valid TOML, so literal strings are only allowed for text without one.
    auto flags = toml::format_flags::allow_unicode_strings;
    if (text.find('\n') == std::string_view::npos) {
        flags |= toml::format_flags::allow_literal_strings;
    }
    std::ostringstream out;
    out << toml::toml_formatter{toml::value<std::string>{std::string(text)}, flags};
    return out.str();
}

std::string quote_all(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        out += quote(items[i]);
    }
    out += "]";
    return out;
}

class Writer {
  public:
    void comment(std::string_view text) {
        out_ += "# ";
        out_ += text;
        out_ += '\n';
    }
    void header(std::string_view name) {
        out_ += "\n[";
        out_ += name;
        out_ += "]\n";
    }
    void array_header(std::string_view name) {
        out_ += "\n[[";
        out_ += name;
        out_ += "]]\n";
    }
    void put(std::string_view key, std::string_view value) { line(key, quote(value)); }
    void put(std::string_view key, const std::string& value) { line(key, quote(value)); }
    void put(std::string_view key, const char* value) { line(key, quote(value)); }
    void put(std::string_view key, bool value) { line(key, value ? "true" : "false"); }
    void put(std::string_view key, std::int64_t value) { line(key, std::to_string(value)); }
    void put(std::string_view key, const std::vector<std::string>& value) {
        line(key, quote_all(value));
    }

    std::string take() { return std::move(out_); }

  private:
    void line(std::string_view key, std::string_view value) {
        out_ += key;
        out_ += " = ";
        out_ += value;
        out_ += '\n';
    }

    std::string out_;
};

// ---------------------------------------------------------------------------------------------
// Files

std::string errno_text(int err) {
    return std::generic_category().message(err);
}

// Reads the whole file, or returns an error text.
std::string read_file(const fs::path& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot open: " + errno_text(errno);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return "cannot read: " + errno_text(errno);
    out = buffer.str();
    return {};
}

std::string random_suffix() {
    unsigned char bytes[6];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return std::to_string(::getpid());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 0x0f];
    }
    return out;
}

}  // namespace

std::string random_uuid_v4() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw std::runtime_error("random_uuid_v4: the OpenSSL random generator failed");
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 0x0f];
    }
    return out;
}

Settings default_settings() {
    Settings s;
    s.admin_api_key = random_uuid_v4();

    auto channel = [](std::string id, std::string name, bool vip, bool permit_photos,
                      std::vector<std::string> welcome, std::int64_t echo) {
        PublicChannel c;
        c.id = std::move(id);
        c.name = std::move(name);
        c.vip = vip;
        c.permit_photos = permit_photos;
        c.welcome_messages = std::move(welcome);
        c.echo_messages_on_join = echo;
        return c;
    };
    s.public_channels = {
        channel("lobby", "Lobby", false, false,
                {"Welcome to the chat server!",
                 "Please follow the basic rules:\n\n1. Have fun\n2. Be kind"},
                10),
        channel("offtopic", "Off Topic", false, true, {"Welcome to the Off Topic channel!"}, 0),
        channel("vip", "VIPs Only", true, true, {"This channel is only for operators and VIPs."},
                0),
    };

    s.webhook_urls = {
        WebhookUrl{.name = "report", .enabled = false, .url = "https://example.com/barertc/report"},
        WebhookUrl{
            .name = "profile", .enabled = false, .url = "https://example.com/barertc/user-profile"},
    };

    MessageFilter filter;
    filter.keyword_phrases = {"\\bswear words\\b", "\\b(swearing|cursing)\\b", "suck my ([^\\s]+)"};
    s.message_filters = {filter};

    s.moderation_rules = {ModerationRule{.username = "example"}};
    return s;
}

std::string to_toml(const Settings& s) {
    Writer w;
    w.comment("Version of your config file (do not touch). When new features are added, the");
    w.comment("Version is incremented and this file is rewritten with their defaults added.");
    w.put("Version", s.version);
    w.comment("Your chat room title (plain text)");
    w.put("Title", s.title);
    w.put("Branding", s.branding);
    w.put("WebsiteURL", s.website_url);
    w.put("CORSHosts", s.cors_hosts);
    w.put("AdminAPIKey", s.admin_api_key);
    w.put("PermitNSFW", s.permit_nsfw);
    w.put("BlockableAdmins", s.blockable_admins);
    w.put("UseXForwardedFor", s.use_x_forwarded_for);
    w.put("WebSocketReadLimit", s.websocket_read_limit);
    w.put("WebSocketSendTimeout", s.websocket_send_timeout);
    w.put("MaxImageWidth", s.max_image_width);
    w.put("PreviewImageWidth", s.preview_image_width);
    // An absent array of tables would keep the in-memory list on the next load, so an empty
    // list must be written explicitly, and as a top-level key it has to precede every table.
    if (s.public_channels.empty()) w.put("PublicChannels", std::vector<std::string>{});
    if (s.webhook_urls.empty()) w.put("WebhookURLs", std::vector<std::string>{});
    if (s.message_filters.empty()) w.put("MessageFilters", std::vector<std::string>{});
    if (s.moderation_rules.empty()) w.put("ModerationRule", std::vector<std::string>{});

    w.header("JWT");
    w.put("Enabled", s.jwt.enabled);
    w.put("Strict", s.jwt.strict);
    w.put("SecretKey", s.jwt.secret_key);
    w.put("LandingPageURL", s.jwt.landing_page_url);

    w.header("TURN");
    w.put("URLs", s.turn.urls);
    w.put("Username", s.turn.username);
    w.put("Credential", s.turn.credential);
    w.comment("When set, pages get time-limited coturn REST credentials instead of the fixed");
    w.comment("Username/Credential above; the secret itself never reaches a page.");
    w.put("SharedSecret", s.turn.shared_secret);
    w.comment("Lifetime of those credentials, in seconds.");
    w.put("CredentialTTL", s.turn.credential_ttl);

    for (const auto& c : s.public_channels) {
        w.array_header("PublicChannels");
        w.put("ID", c.id);
        w.put("Name", c.name);
        if (!c.icon.empty()) w.put("Icon", c.icon);
        w.put("VIP", c.vip);
        w.put("PermitPhotos", c.permit_photos);
        w.put("WelcomeMessages", c.welcome_messages);
        w.put("EchoMessagesOnJoin", c.echo_messages_on_join);
    }

    for (const auto& h : s.webhook_urls) {
        w.array_header("WebhookURLs");
        w.put("Name", h.name);
        w.put("Enabled", h.enabled);
        w.put("URL", h.url);
    }

    w.header("VIP");
    w.put("Name", s.vip.name);
    w.put("Branding", s.vip.branding);
    w.put("Icon", s.vip.icon);
    w.put("MutuallySecret", s.vip.mutually_secret);

    for (const auto& f : s.message_filters) {
        w.array_header("MessageFilters");
        w.put("Enabled", f.enabled);
        w.put("PublicChannels", f.public_channels);
        w.put("PrivateChannels", f.private_channels);
        w.put("KeywordPhrases", f.keyword_phrases);
        w.put("CensorMessage", f.censor_message);
        w.put("ForwardMessage", f.forward_message);
        w.put("ReportMessage", f.report_message);
        w.put("ChatServerResponse", f.chat_server_response);
    }

    for (const auto& r : s.moderation_rules) {
        w.array_header("ModerationRule");
        w.put("Username", r.username);
        w.put("CameraAlwaysNSFW", r.camera_always_nsfw);
        w.put("NoBroadcast", r.no_broadcast);
        w.put("NoVideo", r.no_video);
        w.put("NoImage", r.no_image);
        w.put("NoDarkVideo", r.no_dark_video);
    }

    w.header("DirectMessageHistory");
    w.put("Enabled", s.direct_message_history.enabled);
    w.put("SQLiteDatabase", s.direct_message_history.sqlite_database);
    w.put("RetentionDays", s.direct_message_history.retention_days);
    w.put("DisclaimerMessage", s.direct_message_history.disclaimer_message);

    w.header("DMLinkSpamProtection");
    w.put("Enabled", s.dm_link_spam_protection.enabled);
    w.put("MaxThreads", s.dm_link_spam_protection.max_threads);
    w.comment("Seconds.");
    w.put("TimeLimit", s.dm_link_spam_protection.time_limit);
    w.put("BanHours", s.dm_link_spam_protection.ban_hours);

    w.header("Strings");
    w.put("ModRuleErrorCameraAlwaysNSFW", s.strings.mod_rule_error_camera_always_nsfw);
    w.put("ModRuleErrorNoBroadcast", s.strings.mod_rule_error_no_broadcast);
    w.put("ModRuleErrorNoVideo", s.strings.mod_rule_error_no_video);
    w.put("ModRuleErrorNoImage", s.strings.mod_rule_error_no_image);

    w.header("Logging");
    w.put("Enabled", s.logging.enabled);
    w.put("Directory", s.logging.directory);
    w.put("Channels", s.logging.channels);
    w.put("Usernames", s.logging.usernames);

    const Limits& l = s.limits;
    w.header("Limits");
    w.comment("A client whose queued outgoing data stays above OutboxSoftBytes for");
    w.comment("OutboxSoftSeconds, or ever exceeds OutboxHardBytes, is disconnected.");
    w.put("OutboxSoftBytes", l.outbox_soft_bytes);
    w.put("OutboxSoftSeconds", l.outbox_soft_seconds);
    w.put("OutboxHardBytes", l.outbox_hard_bytes);
    w.comment("HTTP requests (including the WebSocket upgrade); timeouts in seconds.");
    w.put("HTTPHeaderBytes", l.http_header_bytes);
    w.put("HTTPBodyBytes", l.http_body_bytes);
    w.put("HTTPHeaderTimeout", l.http_header_timeout);
    w.put("HTTPIdleTimeout", l.http_idle_timeout);
    w.comment("Per-user message rate: sustained messages per second and burst size (0 = off).");
    w.put("MessagesPerSecond", l.messages_per_second);
    w.put("MessageBurst", l.message_burst);
    w.comment("Per-IP limits, 0 = off: behind a reverse proxy every user may share one address.");
    w.put("ConnectionsPerIP", l.connections_per_ip);
    w.put("LoginsPerIPPerMinute", l.logins_per_ip_per_minute);
    w.comment("Total sockets and poll sessions, 0 = unlimited.");
    w.put("MaxConnections", l.max_connections);
    w.comment("Who lists are sent at most once per this many milliseconds.");
    w.put("WhoListDebounceMs", l.who_list_debounce_ms);
    w.comment("Seconds without a frame from a WebSocket client before it is closed (0 = never).");
    w.put("WebSocketIdleTimeout", l.websocket_idle_timeout);
    w.comment("Shared images: largest upload in bytes and in pixels (width x height).");
    w.put("MaxImageBytes", l.max_image_bytes);
    w.put("MaxImagePixels", l.max_image_pixels);
    w.comment("Longest chat message in characters (0 = no limit).");
    w.put("MaxMessageLength", l.max_message_length);

    w.header("Metrics");
    w.comment("GET /metrics (Prometheus), authorized by 'Authorization: Bearer <AdminAPIKey>'.");
    w.put("Enabled", s.metrics.enabled);

    return w.take();
}

std::string write_file(const fs::path& path, const Settings& settings) {
    const std::string text = to_toml(settings);

    // Renaming over a symlink would replace the link itself; write where it points instead.
    fs::path target = path;
    std::error_code ec;
    if (fs::is_symlink(path, ec)) {
        fs::path resolved = fs::weakly_canonical(path, ec);
        if (!ec) target = std::move(resolved);
    }
    fs::path dir = target.parent_path();
    if (dir.empty()) dir = ".";

    // A rewrite keeps the operator's permissions; a new file holds secrets (AdminAPIKey, JWT
    // and TURN secrets), so it is readable by its owner only.
    mode_t mode = 0600;
    struct stat st {};
    if (::stat(target.c_str(), &st) == 0) mode = st.st_mode & 07777;

    // Built by appending: GCC 12 reports a false -Wrestrict for the chained operator+ here.
    std::string temp_name = ".";
    temp_name += target.filename().string();
    temp_name += ".tmp-";
    temp_name += random_suffix();
    const fs::path temp = dir / temp_name;
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot create " + temp.string() + ": " + errno_text(errno);

    auto fail = [&](std::string_view what, int err) {
        ::close(fd);
        ::unlink(temp.c_str());
        return std::string(what) + " " + temp.string() + ": " + errno_text(err);
    };

    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("cannot write", errno);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, mode) != 0) return fail("cannot set the mode of", errno);
    // Without this a crash right after the rename could leave an empty settings file.
    if (::fsync(fd) != 0) return fail("cannot flush", errno);
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return "cannot close " + temp.string() + ": " + errno_text(err);
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return "cannot rename " + temp.string() + " to " + target.string() + ": " + errno_text(err);
    }
    // Best effort: make the rename itself durable.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return {};
}

LoadResult load_from_string(std::string_view text, std::string_view name, Settings& settings) {
    LoadResult result;
    const std::string file(name);
    toml::table root;
    try {
        root = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        result.error = file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                       ": " + std::string(e.description());
        return result;
    }

    // Decoding into a copy means a type error half-way leaves the running settings intact.
    Settings decoded = settings;
    std::vector<std::string> unknown;
    try {
        decode(root, decoded, unknown);
    } catch (const DecodeError& e) {
        result.error = file + ":" + std::to_string(e.where.line) + ":" +
                       std::to_string(e.where.column) + ": " + e.message;
        return result;
    }
    settings = std::move(decoded);
    result.ok = true;
    result.unknown_keys = std::move(unknown);
    return result;
}

LoadResult load_or_create(const fs::path& path, Settings& settings) {
    LoadResult result;
    const std::string name = path.string();

    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) {
        // First run: deliberately write the current version, not the original's 0.
        settings.version = kCurrentVersion;
        result.ok = true;
        result.write_error = write_file(path, settings);
        result.written = result.write_error.empty();
        return result;
    }
    if (ec) {
        result.error = name + ": " + ec.message();
        return result;
    }
    if (status.type() != fs::file_type::regular) {
        result.error = name + ": not a regular file";
        return result;
    }

    std::string text;
    if (std::string error = read_file(path, text); !error.empty()) {
        result.error = name + ": " + error;
        return result;
    }

    Settings decoded = settings;
    result = load_from_string(text, name, decoded);
    if (!result.ok) return result;

    const bool upgrade = decoded.version != kCurrentVersion;
    if (upgrade) decoded.version = kCurrentVersion;
    settings = std::move(decoded);
    if (upgrade) {
        result.write_error = write_file(path, settings);
        result.written = result.write_error.empty();
    }
    return result;
}

}  // namespace barertc::config
