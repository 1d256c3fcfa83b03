#include "config/settings.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace barertc::config;

namespace {

class ConfigSettings : public ::testing::Test {
  protected:
    void SetUp() override {
        std::random_device rd;
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / ("barertc_config_test_" + std::string(info->name()) +
                                            "_" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(dir_);
        path_ = dir_ / "settings.toml";
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    void write(const std::string& text) const {
        std::ofstream out(path_, std::ios::binary);
        out << text;
    }
    std::string read() const {
        std::ifstream in(path_, std::ios::binary);
        std::ostringstream buffer;
        buffer << in.rdbuf();
        return buffer.str();
    }

    fs::path dir_;
    fs::path path_;
};

// Decodes `text` over default_settings() through the public entry point.
Settings decode_text(const fs::path& path, const std::string& text, LoadResult* result = nullptr) {
    {
        std::ofstream out(path, std::ios::binary);
        out << text;
    }
    Settings s = default_settings();
    LoadResult r = load_or_create(path, s);
    EXPECT_TRUE(r.ok) << r.error;
    if (result != nullptr) *result = r;
    return s;
}

bool is_uuid_v4(const std::string& text) {
    static const std::regex re(
        "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    return std::regex_match(text, re);
}

// The illustrative first-run file of config.md §4, verbatim (Version 0, a fixed key).
const char* const kSpecSample =
    R"toml(# Version of your config file (do not touch). When new features are added to BareRTC,
# the Version is incremented and your settings.toml is written with sensible defaults added
Version = 0
# Your chat room title (plain text)
Title = 'BareRTC'
Branding = 'BareRTC'
WebsiteURL = 'https://www.example.com'
CORSHosts = ['https://www.example.com']
AdminAPIKey = '2f1a6c0e-3b5d-4f7a-9c1e-8d2b7a6e5f40'
PermitNSFW = false
BlockableAdmins = false
UseXForwardedFor = false
WebSocketReadLimit = 41943040
WebSocketSendTimeout = 10
MaxImageWidth = 1280
PreviewImageWidth = 360

[JWT]
Enabled = false
Strict = true
SecretKey = ''
LandingPageURL = ''

[TURN]
URLs = ['stun:stun.l.google.com:19302']
Username = ''
Credential = ''

[[PublicChannels]]
ID = 'lobby'
Name = 'Lobby'
VIP = false
PermitPhotos = false
WelcomeMessages = ['Welcome to the chat server!', "Please follow the basic rules:\n\n1. Have fun\n2. Be kind"]
EchoMessagesOnJoin = 10

[[PublicChannels]]
ID = 'offtopic'
Name = 'Off Topic'
VIP = false
PermitPhotos = true
WelcomeMessages = ['Welcome to the Off Topic channel!']
EchoMessagesOnJoin = 0

[[PublicChannels]]
ID = 'vip'
Name = 'VIPs Only'
VIP = true
PermitPhotos = true
WelcomeMessages = ['This channel is only for operators and VIPs.']
EchoMessagesOnJoin = 0

[[WebhookURLs]]
Name = 'report'
Enabled = false
URL = 'https://example.com/barertc/report'

[[WebhookURLs]]
Name = 'profile'
Enabled = false
URL = 'https://example.com/barertc/user-profile'

[VIP]
Name = 'VIP'
Branding = '<em>VIP Members</em>'
Icon = 'fa fa-circle'
MutuallySecret = false

[[MessageFilters]]
Enabled = false
PublicChannels = true
PrivateChannels = true
KeywordPhrases = ['\bswear words\b', '\b(swearing|cursing)\b', 'suck my ([^\s]+)']
CensorMessage = true
ForwardMessage = false
ReportMessage = false
ChatServerResponse = 'Watch your language.'

[[ModerationRule]]
Username = 'example'
CameraAlwaysNSFW = false
NoBroadcast = false
NoVideo = false
NoImage = false
NoDarkVideo = false

[DirectMessageHistory]
Enabled = false
SQLiteDatabase = 'database.sqlite'
RetentionDays = 90
DisclaimerMessage = '<i class="fa fa-info-circle mr-1"></i> <strong>Reminder:</strong> please conduct yourself honorably in Direct Messages.'

[DMLinkSpamProtection]
Enabled = true
MaxThreads = 5
TimeLimit = 3600
BanHours = 24

[Strings]
ModRuleErrorCameraAlwaysNSFW = 'A chat server moderation rule is currently in place which forces your camera to stay marked as Explicit. Please contact a chat moderator if you have any questions about this.'
ModRuleErrorNoBroadcast = 'A chat server moderation rule is currently in place which restricts your ability to share your webcam. Please contact a chat operator for more information.'
ModRuleErrorNoVideo = 'A chat server moderation rule is currently in place which restricts your ability to watch webcams. Please contact a chat operator for more information.'
ModRuleErrorNoImage = 'A chat server moderation rule is currently in place which restricts your ability to share images. Please contact a chat operator for more information.'

[Logging]
Enabled = false
Directory = './logs'
Channels = ['lobby', 'offtopic']
Usernames = []
)toml";

}  // namespace

TEST_F(ConfigSettings, DefaultsMatchSpec) {
    const Settings s = default_settings();
    EXPECT_EQ(s.version, 17);
    EXPECT_EQ(s.title, "BareRTC");
    EXPECT_EQ(s.branding, "BareRTC");
    EXPECT_EQ(s.website_url, "https://www.example.com");
    EXPECT_EQ(s.cors_hosts, std::vector<std::string>{"https://www.example.com"});
    EXPECT_FALSE(s.permit_nsfw);
    EXPECT_FALSE(s.blockable_admins);
    EXPECT_FALSE(s.use_x_forwarded_for);
    EXPECT_EQ(s.websocket_read_limit, 41943040);
    EXPECT_EQ(s.websocket_send_timeout, 10);
    EXPECT_EQ(s.max_image_width, 1280);
    EXPECT_EQ(s.preview_image_width, 360);

    EXPECT_FALSE(s.jwt.enabled);
    EXPECT_TRUE(s.jwt.strict);
    EXPECT_EQ(s.jwt.secret_key, "");
    EXPECT_EQ(s.jwt.landing_page_url, "");

    EXPECT_EQ(s.turn.urls, std::vector<std::string>{"stun:stun.l.google.com:19302"});
    EXPECT_EQ(s.turn.username, "");
    EXPECT_EQ(s.turn.credential, "");
    EXPECT_EQ(s.turn.shared_secret, "");
    EXPECT_EQ(s.turn.credential_ttl, 86400);

    ASSERT_EQ(s.public_channels.size(), 3u);
    const auto& lobby = s.public_channels[0];
    EXPECT_EQ(lobby.id, "lobby");
    EXPECT_EQ(lobby.name, "Lobby");
    EXPECT_EQ(lobby.icon, "");
    EXPECT_FALSE(lobby.vip);
    EXPECT_FALSE(lobby.permit_photos);
    EXPECT_EQ(lobby.echo_messages_on_join, 10);
    EXPECT_EQ(
        lobby.welcome_messages,
        (std::vector<std::string>{"Welcome to the chat server!",
                                  "Please follow the basic rules:\n\n1. Have fun\n2. Be kind"}));
    const auto& offtopic = s.public_channels[1];
    EXPECT_EQ(offtopic.id, "offtopic");
    EXPECT_EQ(offtopic.name, "Off Topic");
    EXPECT_FALSE(offtopic.vip);
    EXPECT_TRUE(offtopic.permit_photos);
    EXPECT_EQ(offtopic.echo_messages_on_join, 0);
    EXPECT_EQ(offtopic.welcome_messages,
              std::vector<std::string>{"Welcome to the Off Topic channel!"});
    const auto& vip = s.public_channels[2];
    EXPECT_EQ(vip.id, "vip");
    EXPECT_EQ(vip.name, "VIPs Only");
    EXPECT_TRUE(vip.vip);
    EXPECT_TRUE(vip.permit_photos);
    EXPECT_EQ(vip.echo_messages_on_join, 0);
    EXPECT_EQ(vip.welcome_messages,
              std::vector<std::string>{"This channel is only for operators and VIPs."});
    EXPECT_EQ(s.find_channel("offtopic"), &s.public_channels[1]);

    ASSERT_EQ(s.webhook_urls.size(), 2u);
    EXPECT_EQ(s.webhook_urls[0],
              (WebhookUrl{"report", false, "https://example.com/barertc/report"}));
    EXPECT_EQ(s.webhook_urls[1],
              (WebhookUrl{"profile", false, "https://example.com/barertc/user-profile"}));

    EXPECT_EQ(s.vip.name, "VIP");
    EXPECT_EQ(s.vip.branding, "<em>VIP Members</em>");
    EXPECT_EQ(s.vip.icon, "fa fa-circle");
    EXPECT_FALSE(s.vip.mutually_secret);

    ASSERT_EQ(s.message_filters.size(), 1u);
    const auto& f = s.message_filters[0];
    EXPECT_FALSE(f.enabled);
    EXPECT_TRUE(f.public_channels);
    EXPECT_TRUE(f.private_channels);
    EXPECT_EQ(f.keyword_phrases,
              (std::vector<std::string>{R"(\bswear words\b)", R"(\b(swearing|cursing)\b)",
                                        R"(suck my ([^\s]+))"}));
    EXPECT_TRUE(f.censor_message);
    EXPECT_FALSE(f.forward_message);
    EXPECT_FALSE(f.report_message);
    EXPECT_EQ(f.chat_server_response, "Watch your language.");

    ASSERT_EQ(s.moderation_rules.size(), 1u);
    EXPECT_EQ(s.moderation_rules[0],
              (ModerationRule{"example", false, false, false, false, false}));

    EXPECT_FALSE(s.direct_message_history.enabled);
    EXPECT_EQ(s.direct_message_history.sqlite_database, "database.sqlite");
    EXPECT_EQ(s.direct_message_history.retention_days, 90);
    EXPECT_EQ(s.direct_message_history.disclaimer_message,
              "<i class=\"fa fa-info-circle mr-1\"></i> <strong>Reminder:</strong> please "
              "conduct yourself honorably in Direct Messages.");

    EXPECT_TRUE(s.dm_link_spam_protection.enabled);
    EXPECT_EQ(s.dm_link_spam_protection.max_threads, 5);
    EXPECT_EQ(s.dm_link_spam_protection.time_limit, 3600);
    EXPECT_EQ(s.dm_link_spam_protection.ban_hours, 24);

    EXPECT_EQ(s.strings.mod_rule_error_camera_always_nsfw,
              "A chat server moderation rule is currently in place which forces your camera to "
              "stay marked as Explicit. Please contact a chat moderator if you have any "
              "questions about this.");
    EXPECT_EQ(s.strings.mod_rule_error_no_broadcast,
              "A chat server moderation rule is currently in place which restricts your ability "
              "to share your webcam. Please contact a chat operator for more information.");
    EXPECT_EQ(s.strings.mod_rule_error_no_video,
              "A chat server moderation rule is currently in place which restricts your ability "
              "to watch webcams. Please contact a chat operator for more information.");
    EXPECT_EQ(s.strings.mod_rule_error_no_image,
              "A chat server moderation rule is currently in place which restricts your ability "
              "to share images. Please contact a chat operator for more information.");

    EXPECT_FALSE(s.logging.enabled);
    EXPECT_EQ(s.logging.directory, "./logs");
    EXPECT_EQ(s.logging.channels, (std::vector<std::string>{"lobby", "offtopic"}));
    EXPECT_TRUE(s.logging.usernames.empty());

    EXPECT_EQ(s.limits.messages_per_second, 20);
    EXPECT_EQ(s.limits.message_burst, 60);
    EXPECT_EQ(s.limits.connections_per_ip, 0);
    EXPECT_EQ(s.limits.websocket_idle_timeout, 0);
    EXPECT_EQ(s.limits.max_image_bytes, 41943040);
    EXPECT_EQ(s.limits.max_image_pixels, 50'000'000);
    EXPECT_EQ(s.limits.max_message_length, 65536);
    EXPECT_FALSE(s.metrics.enabled);
}

TEST_F(ConfigSettings, DefaultsHaveAFreshRandomAdminKey) {
    const Settings a = default_settings();
    const Settings b = default_settings();
    EXPECT_TRUE(is_uuid_v4(a.admin_api_key)) << a.admin_api_key;
    EXPECT_NE(a.admin_api_key, b.admin_api_key);
}

TEST_F(ConfigSettings, UuidV4Format) {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const std::string id = random_uuid_v4();
        EXPECT_TRUE(is_uuid_v4(id)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 200u);
    EXPECT_NE(random_uuid_v4(), random_uuid_v4());
}

// The spec's own sample file must decode with no unknown key into the defaults: this is what
// catches a misspelt key name, which a round trip of our own output would not.
TEST_F(ConfigSettings, SpecSampleFileDecodesToDefaults) {
    LoadResult r;
    const Settings s = decode_text(path_, kSpecSample, &r);
    EXPECT_TRUE(r.unknown_keys.empty()) << r.unknown_keys.front();
    Settings expected = default_settings();
    expected.admin_api_key = "2f1a6c0e-3b5d-4f7a-9c1e-8d2b7a6e5f40";
    EXPECT_EQ(s, expected);
    EXPECT_TRUE(r.written);  // Version 0 was upgraded
}

TEST_F(ConfigSettings, EveryKeyIsRead) {
    const std::string text = R"toml(Version = 17
Title = 'T'
Branding = '<b>B</b>'
WebsiteURL = 'https://chat.test'
CORSHosts = ['https://a.test', 'https://b.test']
AdminAPIKey = 'key'
PermitNSFW = true
BlockableAdmins = true
UseXForwardedFor = true
WebSocketReadLimit = 1000
WebSocketSendTimeout = 3
MaxImageWidth = 800
PreviewImageWidth = 200
[JWT]
Enabled = true
Strict = false
SecretKey = 'secret'
LandingPageURL = 'https://land.test'
[TURN]
URLs = ['turn:t.test:3478']
Username = 'u'
Credential = 'c'
SharedSecret = 'shh'
CredentialTTL = 600
[[PublicChannels]]
ID = 'x'
Name = 'X'
Icon = 'fa fa-x'
VIP = true
PermitPhotos = true
WelcomeMessages = ['hi']
EchoMessagesOnJoin = 4
[[WebhookURLs]]
Name = 'report'
Enabled = true
URL = 'https://hook.test'
[VIP]
Name = 'Gold'
Branding = 'Golden'
Icon = 'fa fa-star'
MutuallySecret = true
[[MessageFilters]]
Enabled = true
PublicChannels = false
PrivateChannels = false
KeywordPhrases = ['bad']
CensorMessage = false
ForwardMessage = true
ReportMessage = true
ChatServerResponse = 'No.'
[[ModerationRule]]
Username = 'bob'
CameraAlwaysNSFW = true
NoBroadcast = true
NoVideo = true
NoImage = true
NoDarkVideo = true
[DirectMessageHistory]
Enabled = true
SQLiteDatabase = 'dm.db'
RetentionDays = 7
DisclaimerMessage = 'Be nice'
[DMLinkSpamProtection]
Enabled = false
MaxThreads = 2
TimeLimit = 60
BanHours = 1
[Strings]
ModRuleErrorCameraAlwaysNSFW = 's1'
ModRuleErrorNoBroadcast = 's2'
ModRuleErrorNoVideo = 's3'
ModRuleErrorNoImage = 's4'
[Logging]
Enabled = true
Directory = '/var/log/chat'
Channels = ['x']
Usernames = ['bob']
[Limits]
OutboxSoftBytes = 1
OutboxSoftSeconds = 2
OutboxHardBytes = 3
HTTPHeaderBytes = 4
HTTPBodyBytes = 5
HTTPHeaderTimeout = 6
HTTPIdleTimeout = 7
MessagesPerSecond = 8
MessageBurst = 9
ConnectionsPerIP = 10
LoginsPerIPPerMinute = 11
MaxConnections = 12
WhoListDebounceMs = 13
WebSocketIdleTimeout = 14
MaxImageBytes = 15
MaxImagePixels = 16
MaxMessageLength = 17
[Metrics]
Enabled = true
)toml";
    LoadResult r;
    const Settings s = decode_text(path_, text, &r);
    EXPECT_TRUE(r.unknown_keys.empty());
    EXPECT_FALSE(r.written);

    Settings e;
    e.version = 17;
    e.title = "T";
    e.branding = "<b>B</b>";
    e.website_url = "https://chat.test";
    e.cors_hosts = {"https://a.test", "https://b.test"};
    e.admin_api_key = "key";
    e.permit_nsfw = e.blockable_admins = e.use_x_forwarded_for = true;
    e.websocket_read_limit = 1000;
    e.websocket_send_timeout = 3;
    e.max_image_width = 800;
    e.preview_image_width = 200;
    e.jwt = {true, false, "secret", "https://land.test"};
    e.turn = {{"turn:t.test:3478"}, "u", "c", "shh", 600};
    e.public_channels = {{"x", "X", "fa fa-x", true, true, {"hi"}, 4}};
    e.webhook_urls = {{"report", true, "https://hook.test"}};
    e.vip = {"Gold", "Golden", "fa fa-star", true};
    e.message_filters = {{true, false, false, {"bad"}, false, true, true, "No."}};
    e.moderation_rules = {{"bob", true, true, true, true, true}};
    e.direct_message_history = {true, "dm.db", 7, "Be nice"};
    e.dm_link_spam_protection = {false, 2, 60, 1};
    e.strings = {"s1", "s2", "s3", "s4"};
    e.logging = {true, "/var/log/chat", {"x"}, {"bob"}};
    e.limits = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    e.metrics.enabled = true;
    EXPECT_EQ(s, e);

    // And our writer emits the same key names: reading its output over other values restores e.
    const std::string written = to_toml(e);
    const Settings again = decode_text(path_, written, &r);
    EXPECT_TRUE(r.unknown_keys.empty());
    EXPECT_EQ(again, e);
}

TEST_F(ConfigSettings, FirstRunWritesFileAndReloadIsEqual) {
    Settings s = default_settings();
    const Settings before = s;
    const LoadResult r = load_or_create(path_, s);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.written);
    EXPECT_EQ(r.write_error, "");
    EXPECT_EQ(s, before);
    ASSERT_TRUE(fs::exists(path_));
    EXPECT_NE(read().find("\nVersion = 17\n"), std::string::npos);

    Settings reloaded = default_settings();  // a different random AdminAPIKey
    ASSERT_NE(reloaded.admin_api_key, s.admin_api_key);
    const std::string bytes = read();
    const LoadResult r2 = load_or_create(path_, reloaded);
    EXPECT_TRUE(r2.ok) << r2.error;
    EXPECT_FALSE(r2.written);
    EXPECT_TRUE(r2.unknown_keys.empty());
    EXPECT_EQ(reloaded, s);
    EXPECT_EQ(reloaded.version, 17);
    EXPECT_EQ(read(), bytes);  // a current file is not rewritten

    // Only the settings file is left in the directory: the temporary file was renamed.
    int entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++entries;
    EXPECT_EQ(entries, 1);
}

TEST_F(ConfigSettings, FirstRunWriteFailureIsNotFatal) {
    Settings s = default_settings();
    const LoadResult r = load_or_create(dir_ / "missing-dir" / "settings.toml", s);
    EXPECT_TRUE(r.ok);
    EXPECT_FALSE(r.written);
    EXPECT_NE(r.write_error, "");
}

TEST_F(ConfigSettings, PartialFileKeepsOtherValues) {
    const std::string text = "Version = 17\nTitle = 'My Chat'\n[JWT]\nEnabled = true\n";
    write(text);
    Settings s = default_settings();
    s.branding = "kept from before";  // a reload keeps the running value of absent keys
    Settings expected = s;
    expected.title = "My Chat";
    expected.jwt.enabled = true;
    const LoadResult r = load_or_create(path_, s);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(r.written);
    EXPECT_EQ(s, expected);
    EXPECT_TRUE(s.jwt.strict);
    EXPECT_EQ(s.public_channels.size(), 3u);
    EXPECT_EQ(read(), text);
}

TEST_F(ConfigSettings, ArrayOfTablesReplacesWholeList) {
    const Settings s = decode_text(path_, R"toml(Version = 17
[[PublicChannels]]
ID = 'main'
Name = 'Main Room'
WelcomeMessages = ['hello']
)toml");
    ASSERT_EQ(s.public_channels.size(), 1u);
    EXPECT_EQ(s.public_channels[0].id, "main");
    EXPECT_EQ(s.public_channels[0].name, "Main Room");
    EXPECT_EQ(s.public_channels[0].welcome_messages, std::vector<std::string>{"hello"});
    EXPECT_FALSE(s.public_channels[0].vip);
    EXPECT_FALSE(s.public_channels[0].permit_photos);
    EXPECT_EQ(s.public_channels[0].echo_messages_on_join, 0);
    // Lists absent from the file are kept.
    EXPECT_EQ(s.webhook_urls, default_settings().webhook_urls);
    EXPECT_EQ(s.message_filters, default_settings().message_filters);
}

TEST_F(ConfigSettings, PlainArrayIsReplaced) {
    const Settings s =
        decode_text(path_, "Version = 17\nCORSHosts = []\n[Logging]\nChannels = ['vip']\n");
    EXPECT_TRUE(s.cors_hosts.empty());
    EXPECT_EQ(s.logging.channels, std::vector<std::string>{"vip"});
}

TEST_F(ConfigSettings, EmptyListsSurviveARoundTrip) {
    Settings s = default_settings();
    s.public_channels.clear();
    s.webhook_urls.clear();
    s.message_filters.clear();
    s.moderation_rules.clear();
    s.turn.urls.clear();
    EXPECT_EQ(decode_text(path_, to_toml(s)), s);
}

TEST_F(ConfigSettings, OldVersionIsUpgradedKeepingCustomValues) {
    write(R"toml(Version = 0
Title = 'Custom'
AdminAPIKey = 'my-fixed-key'
Foo = 'dropped'
[[PublicChannels]]
ID = 'only'
Name = 'Only'
)toml");
    Settings s = default_settings();
    const LoadResult r = load_or_create(path_, s);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.written);
    EXPECT_EQ(r.write_error, "");
    EXPECT_EQ(s.version, 17);
    EXPECT_EQ(s.title, "Custom");
    EXPECT_EQ(s.admin_api_key, "my-fixed-key");
    EXPECT_EQ(r.unknown_keys, std::vector<std::string>{"Foo"});

    const std::string text = read();
    EXPECT_NE(text.find("Version = 17"), std::string::npos);
    EXPECT_NE(text.find("[Limits]"), std::string::npos);  // new options appear
    EXPECT_EQ(text.find("Foo"), std::string::npos);       // unknown keys are dropped

    Settings reloaded = default_settings();
    const LoadResult r2 = load_or_create(path_, reloaded);
    EXPECT_TRUE(r2.ok) << r2.error;
    EXPECT_FALSE(r2.written);
    EXPECT_EQ(reloaded, s);
}

TEST_F(ConfigSettings, MissingOrNewerVersionIsRewritten) {
    for (const std::string first_line : {"", "Version = 99\n"}) {
        write(first_line + "Title = 'Custom'\n");
        Settings s = default_settings();
        const LoadResult r = load_or_create(path_, s);
        ASSERT_TRUE(r.ok) << r.error;
        EXPECT_TRUE(r.written) << first_line;
        EXPECT_EQ(s.version, 17);
        EXPECT_EQ(s.title, "Custom");
        EXPECT_NE(read().find("\nVersion = 17\n"), std::string::npos);
        // The random key of this start is now persisted.
        EXPECT_NE(read().find(s.admin_api_key), std::string::npos);
    }
}

TEST_F(ConfigSettings, SyntaxErrorLeavesFileAndSettingsUntouched) {
    const std::string text = "Version = 17\nTitle = 'ok'\nBranding = = 'broken'\n";
    write(text);
    Settings s = default_settings();
    const Settings before = s;
    const LoadResult r = load_or_create(path_, s);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.written);
    EXPECT_EQ(r.error.rfind(path_.string() + ":3:", 0), 0u) << r.error;
    EXPECT_TRUE(std::regex_search(r.error, std::regex(":3:[0-9]+: .+"))) << r.error;
    EXPECT_EQ(s, before);
    EXPECT_EQ(read(), text);
}

TEST_F(ConfigSettings, TypeMismatchNamesLineAndColumn) {
    // Valid keys before the bad one must not be applied either.
    const std::string text = "Version = 0\nBranding = 'new'\n\nTitle = 5\n";
    write(text);
    Settings s = default_settings();
    const Settings before = s;
    const LoadResult r = load_or_create(path_, s);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.written);
    EXPECT_EQ(r.error.rfind(path_.string() + ":4:9: ", 0), 0u) << r.error;
    EXPECT_NE(r.error.find("Title"), std::string::npos) << r.error;
    EXPECT_EQ(s, before);
    EXPECT_EQ(read(), text);
}

TEST_F(ConfigSettings, TypeMismatchVariants) {
    struct Case {
        std::string text;
        std::string location;  // ":line:column:"
    };
    const std::vector<Case> cases = {
        {"PermitNSFW = \"yes\"\n", ":1:14:"},
        {"WebSocketReadLimit = 1.5\n", ":1:22:"},
        {"MaxImageWidth = true\n", ":1:17:"},
        {"CORSHosts = 'https://a.test'\n", ":1:13:"},
        {"CORSHosts = ['a', 1]\n", ":1:19:"},
        {"JWT = 5\n", ":1:7:"},
        {"[JWT]\nStrict = 'no'\n", ":2:10:"},
        {"PublicChannels = [1]\n", ":1:19:"},
        {"[PublicChannels]\nID = 'x'\n", ":1:1:"},
        {"[[PublicChannels]]\nID = 'a'\n[[PublicChannels]]\nVIP = 'no'\n", ":4:7:"},
        {"[[ModerationRule]]\nUsername = 3\n", ":2:12:"},
        {"[Limits]\nMessageBurst = '60'\n", ":2:16:"},
        {"[Metrics]\nEnabled = 1\n", ":2:11:"},
        {"Version = '17'\n", ":1:11:"},
        {"AdminAPIKey = 1979-05-27\n", ":1:15:"},
    };
    for (const auto& c : cases) {
        write(c.text);
        Settings s = default_settings();
        const Settings before = s;
        const LoadResult r = load_or_create(path_, s);
        EXPECT_FALSE(r.ok) << c.text;
        EXPECT_EQ(r.error.rfind(path_.string() + c.location, 0), 0u) << c.text << r.error;
        EXPECT_EQ(s, before) << c.text;
        EXPECT_EQ(read(), c.text);
    }
}

TEST_F(ConfigSettings, UnknownKeysAreReported) {
    LoadResult r;
    const Settings s = decode_text(path_, R"toml(Version = 17
Foo = 1
Title = 'Known'
[JWT]
Bogus = true
[Extra]
Key = 1
[[PublicChannels]]
ID = 'a'
Name = 'A'
[[PublicChannels]]
ID = 'b'
Name = 'B'
Colour = 'red'
)toml",
                                   &r);
    EXPECT_EQ(s.title, "Known");
    ASSERT_EQ(s.public_channels.size(), 2u);
    EXPECT_EQ(s.public_channels[1].id, "b");
    const std::set<std::string> unknown(r.unknown_keys.begin(), r.unknown_keys.end());
    EXPECT_EQ(unknown,
              (std::set<std::string>{"Foo", "Extra", "JWT.Bogus", "PublicChannels[1].Colour"}));
    EXPECT_EQ(r.unknown_keys.size(), 4u);
}

TEST_F(ConfigSettings, StringsRoundTripExactly) {
    const std::vector<std::string> tricky = {
        "",
        "plain",
        "it's",
        "say \"hi\"",
        "both ' and \"",
        R"(back\slash \n not a newline)",
        "line1\nline2",
        "\nleading newline",
        "trailing newline\n",
        "crlf\r\nend",
        "tab\there",
        "'''triple'''",
        "\"\"\"triple\"\"\"",
        "control \x01\x1f\x7f chars",
        "unicode é ☃ 𝄞 日本語",
        "separators \u2028 \u0085",
        "# not a comment",
        "[not a table]",
        "ends with backslash\\",
        "'",
    };
    Settings s = default_settings();
    s.title = tricky[3];
    s.branding = tricky[4];
    s.admin_api_key = tricky[5];
    s.jwt.secret_key = tricky[6];
    s.jwt.landing_page_url = tricky[7];
    s.turn.username = tricky[8];
    s.turn.credential = tricky[9];
    s.vip.icon = tricky[10];
    s.direct_message_history.disclaimer_message = tricky[11];
    s.strings.mod_rule_error_no_image = tricky[12];
    s.cors_hosts = tricky;
    s.public_channels[0].welcome_messages = tricky;
    s.public_channels[0].icon = tricky[14];
    s.public_channels[1].name = tricky[13];
    s.message_filters[0].keyword_phrases = tricky;
    s.moderation_rules[0].username = tricky[19];
    s.logging.usernames = tricky;

    const std::string text = to_toml(s);
    // Every document we write is valid TOML.
    EXPECT_NO_THROW((void)toml::parse(text)) << text;
    EXPECT_EQ(decode_text(path_, text), s) << text;

    // Through write_file as well.
    EXPECT_EQ(write_file(path_, s), "");
    Settings reloaded = default_settings();
    const LoadResult r = load_or_create(path_, reloaded);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(reloaded, s);
}

TEST_F(ConfigSettings, DocumentLayout) {
    Settings s = default_settings();
    s.public_channels[1].icon = "fa fa-fire";
    const std::string text = to_toml(s);

    // The document opens with comment lines directly above Version, the first key.
    const auto version = text.find("Version = 17\n");
    ASSERT_NE(version, std::string::npos);
    EXPECT_EQ(text.substr(0, 2), "# ");
    EXPECT_EQ(text.find('='), version + 8);
    const auto line_above = text.rfind('\n', version - 2);
    EXPECT_EQ(text[line_above == std::string::npos ? 0 : line_above + 1], '#');

    // All top-level scalars come before the first table header.
    const auto first_table = text.find("\n[");
    ASSERT_NE(first_table, std::string::npos);
    EXPECT_LT(text.find("PreviewImageWidth = 360"), first_table);
    EXPECT_LT(text.find("AdminAPIKey = '" + s.admin_api_key + "'"), first_table);

    // Arrays of tables use [[...]] headers, one per element.
    auto count = [&](const std::string& needle) {
        int n = 0;
        for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
            ++n;
        return n;
    };
    EXPECT_EQ(count("[[PublicChannels]]\n"), 3);
    EXPECT_EQ(count("[[WebhookURLs]]\n"), 2);
    EXPECT_EQ(count("[[MessageFilters]]\n"), 1);
    EXPECT_EQ(count("[[ModerationRule]]\n"), 1);
    for (const char* table :
         {"[JWT]\n", "[TURN]\n", "[VIP]\n", "[DirectMessageHistory]\n", "[DMLinkSpamProtection]\n",
          "[Strings]\n", "[Logging]\n", "[Limits]\n", "[Metrics]\n"}) {
        EXPECT_EQ(count(std::string("\n") + table), 1) << table;
    }
    // Icon only where it is set.
    EXPECT_EQ(count("\nIcon = 'fa fa-fire'\n"), 1);
    EXPECT_EQ(count("\nIcon = "), 2);  // that channel and [VIP]
    EXPECT_EQ(count("\nIcon = ''"), 0);

    // The document parses and reads back as itself.
    const toml::table doc = toml::parse(text);
    EXPECT_EQ(doc["Version"].value<std::int64_t>(), 17);
    EXPECT_EQ(doc["Limits"]["WhoListDebounceMs"].value<std::int64_t>(), 50);
    EXPECT_EQ(doc["TURN"]["CredentialTTL"].value<std::int64_t>(), 86400);
    EXPECT_EQ(doc["Metrics"]["Enabled"].value<bool>(), false);
    EXPECT_EQ(doc["PublicChannels"][0]["EchoMessagesOnJoin"].value<std::int64_t>(), 10);
}

TEST_F(ConfigSettings, WriteFileIsAtomicAndReportsErrors) {
    Settings s = default_settings();
    write("old contents");
    EXPECT_EQ(write_file(path_, s), "");
    EXPECT_EQ(read(), to_toml(s));
    int entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++entries;
    EXPECT_EQ(entries, 1);

    const std::string error = write_file(dir_ / "no" / "such" / "settings.toml", s);
    EXPECT_NE(error, "");
}

TEST_F(ConfigSettings, UnreadablePathIsAnError) {
    fs::create_directories(path_);  // a directory where the file should be
    Settings s = default_settings();
    const Settings before = s;
    const LoadResult r = load_or_create(path_, s);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error.rfind(path_.string() + ":", 0), 0u) << r.error;
    EXPECT_EQ(s, before);
}
