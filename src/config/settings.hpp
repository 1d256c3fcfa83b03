#pragma once
// settings.toml: one Settings struct with every default in one place (config.md §3 and the
// additions of decisions.md). Loading decodes a file *over* an existing Settings, so keys
// absent from the file keep their current value, exactly like the original.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace barertc::config {

// The settings format version this server writes and expects (config.md §1).
inline constexpr std::int64_t kCurrentVersion = 17;

struct PublicChannel {
    std::string id;
    std::string name;
    std::string icon;  // omitted from the written file when empty
    bool vip = false;
    bool permit_photos = false;
    std::vector<std::string> welcome_messages;
    std::int64_t echo_messages_on_join = 0;

    bool operator==(const PublicChannel&) const = default;
};

struct WebhookUrl {
    std::string name;  // "report" or "profile"
    bool enabled = false;
    std::string url;

    bool operator==(const WebhookUrl&) const = default;
};

struct JwtSettings {
    bool enabled = false;
    bool strict = true;
    std::string secret_key;
    std::string landing_page_url;

    bool operator==(const JwtSettings&) const = default;
};

struct TurnSettings {
    std::vector<std::string> urls{"stun:stun.l.google.com:19302"};
    std::string username;
    std::string credential;
    // Beyond the original (decisions.md §8): coturn REST credentials when non-empty.
    std::string shared_secret;
    std::int64_t credential_ttl = 86400;  // seconds

    bool operator==(const TurnSettings&) const = default;
};

struct VipSettings {
    std::string name = "VIP";
    std::string branding = "<em>VIP Members</em>";
    std::string icon = "fa fa-circle";
    bool mutually_secret = false;

    bool operator==(const VipSettings&) const = default;
};

struct MessageFilter {
    bool enabled = false;
    bool public_channels = true;
    bool private_channels = true;
    std::vector<std::string> keyword_phrases;
    bool censor_message = true;
    bool forward_message = false;
    bool report_message = false;
    std::string chat_server_response = "Watch your language.";

    bool operator==(const MessageFilter&) const = default;
};

struct ModerationRule {
    std::string username;
    bool camera_always_nsfw = false;
    bool no_broadcast = false;
    bool no_video = false;
    bool no_image = false;
    bool no_dark_video = false;

    bool operator==(const ModerationRule&) const = default;
};

struct DirectMessageHistory {
    bool enabled = false;
    std::string sqlite_database = "database.sqlite";
    std::int64_t retention_days = 90;
    std::string disclaimer_message =
        "<i class=\"fa fa-info-circle mr-1\"></i> <strong>Reminder:</strong> please conduct "
        "yourself honorably in Direct Messages.";

    bool operator==(const DirectMessageHistory&) const = default;
};

struct DmLinkSpamProtection {
    bool enabled = true;
    std::int64_t max_threads = 5;
    std::int64_t time_limit = 3600;  // seconds
    std::int64_t ban_hours = 24;

    bool operator==(const DmLinkSpamProtection&) const = default;
};

struct Strings {
    std::string mod_rule_error_camera_always_nsfw =
        "A chat server moderation rule is currently in place which forces your camera to stay "
        "marked as Explicit. Please contact a chat moderator if you have any questions about "
        "this.";
    std::string mod_rule_error_no_broadcast =
        "A chat server moderation rule is currently in place which restricts your ability to "
        "share your webcam. Please contact a chat operator for more information.";
    std::string mod_rule_error_no_video =
        "A chat server moderation rule is currently in place which restricts your ability to "
        "watch webcams. Please contact a chat operator for more information.";
    std::string mod_rule_error_no_image =
        "A chat server moderation rule is currently in place which restricts your ability to "
        "share images. Please contact a chat operator for more information.";

    bool operator==(const Strings&) const = default;
};

struct Logging {
    bool enabled = false;
    std::string directory = "./logs";
    std::vector<std::string> channels{"lobby", "offtopic"};
    std::vector<std::string> usernames;

    bool operator==(const Logging&) const = default;
};

// Beyond the original (decisions.md §11): every limit is a named setting. Defaults are high
// enough that a person chatting, or a page restoring its session, never meets them.
struct Limits {
    // Outbox per connection, in bytes of queued frames. Over the soft limit for
    // OutboxSoftSeconds, or over the hard limit at once, the client is dropped (close 1008).
    std::int64_t outbox_soft_bytes = 4 * 1024 * 1024;
    std::int64_t outbox_soft_seconds = 15;
    std::int64_t outbox_hard_bytes = 128 * 1024 * 1024;
    // HTTP request limits (also for the WebSocket upgrade request and /poll bodies).
    std::int64_t http_header_bytes = 64 * 1024;
    std::int64_t http_body_bytes = 41943040;
    std::int64_t http_header_timeout = 30;  // seconds to receive a whole request header
    std::int64_t http_idle_timeout = 120;   // seconds a keep-alive connection may sit idle
    // Per-user chat rate: token bucket, MessagesPerSecond sustained, MessageBurst at once.
    // 0 disables it.
    std::int64_t messages_per_second = 20;
    std::int64_t message_burst = 60;
    // Per-IP limits; 0 = off (behind a reverse proxy every user shares one address).
    std::int64_t connections_per_ip = 0;
    std::int64_t logins_per_ip_per_minute = 0;
    // Total connections (sockets and poll sessions); 0 = unlimited.
    std::int64_t max_connections = 0;
    // Who lists are coalesced: at most one round per this many milliseconds.
    std::int64_t who_list_debounce_ms = 50;
    // Seconds without any frame from a WebSocket client before its socket is closed; 0 = never
    // (the original's behaviour: the chat page sends nothing while its user is idle, so only
    // set this where clients send regularly).
    std::int64_t websocket_idle_timeout = 0;
    // Shared images: the largest upload in bytes, and in pixels (width × height as declared by
    // the file's header, checked before any pixel is decoded).
    std::int64_t max_image_bytes = 41943040;
    std::int64_t max_image_pixels = 50'000'000;
    // Chat messages longer than this many characters are refused with a ChatServer notice;
    // 0 = no limit (then only WebSocketReadLimit / HTTPBodyBytes bound them).
    std::int64_t max_message_length = 65536;

    bool operator==(const Limits&) const = default;
};

struct Metrics {
    bool enabled = false;  // decisions.md §9

    bool operator==(const Metrics&) const = default;
};

struct Settings {
    std::int64_t version = kCurrentVersion;
    std::string title = "BareRTC";
    std::string branding = "BareRTC";
    std::string website_url = "https://www.example.com";
    std::vector<std::string> cors_hosts{"https://www.example.com"};
    std::string admin_api_key;  // default_settings() puts a fresh random UUID v4 here
    bool permit_nsfw = false;
    bool blockable_admins = false;
    bool use_x_forwarded_for = false;
    std::int64_t websocket_read_limit = 41943040;
    std::int64_t websocket_send_timeout = 10;
    std::int64_t max_image_width = 1280;
    std::int64_t preview_image_width = 360;

    JwtSettings jwt;
    TurnSettings turn;
    std::vector<PublicChannel> public_channels;
    std::vector<WebhookUrl> webhook_urls;
    VipSettings vip;
    std::vector<MessageFilter> message_filters;
    std::vector<ModerationRule> moderation_rules;
    DirectMessageHistory direct_message_history;
    DmLinkSpamProtection dm_link_spam_protection;
    Strings strings;
    Logging logging;
    Limits limits;
    Metrics metrics;

    const PublicChannel* find_channel(std::string_view id) const {
        for (const auto& c : public_channels)
            if (c.id == id) return &c;
        return nullptr;
    }
    const WebhookUrl* find_webhook(std::string_view name) const {
        for (const auto& w : webhook_urls)
            if (w.name == name) return &w;
        return nullptr;
    }

    bool operator==(const Settings&) const = default;
};

// The in-memory defaults of config.md §3 (three channels, two disabled webhooks, one example
// filter and one placeholder moderation rule) with a fresh random UUID v4 AdminAPIKey.
Settings default_settings();

// A fresh random UUID v4 in canonical lowercase form.
std::string random_uuid_v4();

struct LoadResult {
    bool ok = false;
    // On failure: "settings.toml:12:5: <what is wrong>" (file, line and column when known).
    std::string error;
    // Unknown keys found in the file (dotted paths), each worth a warning in the log.
    std::vector<std::string> unknown_keys;
    // True when the file was missing (first run) or had another Version, and was (re)written.
    bool written = false;
    // Set when writing the file failed (not fatal: the settings are still used).
    std::string write_error;

    bool operator==(const LoadResult&) const = default;
};

// config.md §1: if `path` is missing, writes `settings` (the defaults) there. Otherwise decodes
// the file over `settings`; on a TOML syntax error or a type mismatch returns !ok, leaves
// `settings` unchanged and never touches the file. If the decoded Version is not
// kCurrentVersion, sets it and rewrites the whole file from the merged settings.
LoadResult load_or_create(const std::filesystem::path& path, Settings& settings);

// The decoding step of load_or_create on a document already in memory (`name` prefixes error
// texts): decodes `text` over `settings`, or returns !ok and leaves `settings` unchanged. Never
// touches a file and never changes the decoded Version.
LoadResult load_from_string(std::string_view text, std::string_view name, Settings& settings);

// The whole Settings as a TOML document (with a comment above the Version key), such that
// decoding it over default_settings() gives back an equal Settings.
std::string to_toml(const Settings& settings);

// Writes to_toml(settings) to `path` atomically (temporary file + rename). Returns an error
// text, empty on success.
std::string write_file(const std::filesystem::path& path, const Settings& settings);

}  // namespace barertc::config
