// BareRTC server: a webcam chat room that plugs into an existing website.

#include "api/web_api.hpp"
#include "chat/protocol.hpp"
#include "config/live_settings.hpp"
#include "config/settings.hpp"
#include "hooks/webhook_client.hpp"
#include "media/image.hpp"
#include "net/chat_service.hpp"
#include "net/listener.hpp"
#include "net/poll_service.hpp"
#include "store/chat_log.hpp"
#include "store/dm_history.hpp"
#include "util/json_writer.hpp"
#include "util/metrics.hpp"
#include "util/time_format.hpp"
#include "web/pages.hpp"
#include "web/site.hpp"

#include <glib.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <thread>

namespace {

using namespace barertc;

// The original takes Go-style flags with one dash (-address, -debug); CLI11 wants two.
std::vector<std::string> normalize_flags(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        for (const char* name : {"address", "debug", "threads", "settings"}) {
            const std::string single = std::string("-") + name;
            if (a == single || a.starts_with(single + "=")) a = "-" + a;
        }
        args.push_back(std::move(a));
    }
    std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
    return args;
}

net::HttpOptions http_options(const config::Settings& s) {
    net::HttpOptions o;
    o.header_limit =
        static_cast<std::uint32_t>(std::max<std::int64_t>(1024, s.limits.http_header_bytes));
    o.body_limit = static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.limits.http_body_bytes));
    o.header_timeout =
        std::chrono::seconds(std::max<std::int64_t>(1, s.limits.http_header_timeout));
    o.idle_timeout = std::chrono::seconds(std::max<std::int64_t>(1, s.limits.http_idle_timeout));
    o.use_x_forwarded_for = s.use_x_forwarded_for;
    o.max_connections = s.limits.max_connections;
    o.connections_per_ip = s.limits.connections_per_ip;
    return o;
}

net::WebSocketOptions websocket_options(const config::Settings& s,
                                        boost::asio::any_io_executor large_frames) {
    net::WebSocketOptions o;
    o.large_frame_executor = std::move(large_frames);
    o.read_limit = static_cast<std::size_t>(std::max<std::int64_t>(1024, s.websocket_read_limit));
    o.send_timeout = std::chrono::seconds(std::max<std::int64_t>(1, s.websocket_send_timeout));
    o.handshake_timeout =
        std::chrono::seconds(std::max<std::int64_t>(1, s.limits.http_header_timeout));
    o.outbox = net::Outbox::limits_from(s.limits);
    o.idle_timeout =
        std::chrono::seconds(std::max<std::int64_t>(0, s.limits.websocket_idle_timeout));
    return o;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Re-reads the settings over the running ones; on a parse error the running settings stay.
std::string reload_settings(const std::string& path, config::LiveSettings& live) {
    config::Settings next = *live.get();
    const auto result = config::load_or_create(path, next);
    if (!result.ok) {
        spdlog::error("reload of {} failed, keeping the running settings: {}", path, result.error);
        return result.error;
    }
    for (const auto& key : result.unknown_keys) {
        spdlog::warn("{}: unknown key \"{}\" is ignored", path, key);
    }
    const auto before = lines_of(config::to_toml(*live.get()));
    const auto after = lines_of(config::to_toml(next));
    std::size_t changed = 0;
    for (const auto& line : after) {
        if (std::find(before.begin(), before.end(), line) == before.end() &&
            !line.starts_with("AdminAPIKey") && !line.starts_with("SecretKey") &&
            !line.starts_with("SharedSecret")) {
            spdlog::info("reload: {}", line);
            ++changed;
        }
    }
    spdlog::info("reloaded {} ({} changed lines)", path, changed);
    live.set(std::move(next));
    return {};
}

// libvips reports every damaged upload on stderr; those belong in the debug log.
void vips_log_to_spdlog(const gchar*, GLogLevelFlags, const gchar* message, gpointer) {
    spdlog::debug("libvips: {}", message ? message : "");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"BareRTC: a webcam chat room server for your website", "barertc"};
    std::string address = ":9000";
    bool debug = false;
    unsigned threads = 1;
    std::string settings_path = "settings.toml";
    app.add_option("--address", address, "Address to listen on, like :9000 or 127.0.0.1:9000")
        ->capture_default_str();
    app.add_flag("--debug", debug, "Log debug messages");
    app.add_option("--threads", threads, "Threads serving network I/O")->capture_default_str();
    app.add_option("--settings", settings_path, "Path of settings.toml")->capture_default_str();
    try {
        app.parse(normalize_flags(argc, argv));
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::info);

    config::Settings settings = config::default_settings();
    const auto loaded = config::load_or_create(settings_path, settings);
    if (!loaded.ok) {
        std::cerr << "Error loading settings: " << loaded.error << "\n";
        return 1;
    }
    for (const auto& key : loaded.unknown_keys) {
        spdlog::warn("{}: unknown key \"{}\" is ignored", settings_path, key);
    }
    if (loaded.written)
        spdlog::info("wrote {} (settings version {})", settings_path, settings.version);
    if (!loaded.write_error.empty())
        spdlog::warn("could not write {}: {}", settings_path, loaded.write_error);
    if (settings.jwt.enabled && settings.jwt.secret_key.empty()) {
        std::cerr << "Error: [JWT] Enabled is true but [JWT] SecretKey is empty in "
                  << settings_path << ": anyone could sign tokens. Set a long random secret.\n";
        return 1;
    }

    boost::asio::ip::tcp::endpoint endpoint;
    try {
        endpoint = net::parse_listen_address(address);
    } catch (const std::exception& e) {
        std::cerr << "Error: bad --address \"" << address << "\": " << e.what() << "\n";
        return 1;
    }

    media::init_image_library(argv[0]);
    g_log_set_handler("VIPS",
                      static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                      vips_log_to_spdlog, nullptr);

    const auto started = std::chrono::system_clock::now();
    std::int64_t first_message_id = timefmt::unix_seconds(started) + 1;
    // DM history is opened at start only (config.md §2). A database that cannot be opened is
    // logged and the chat runs without history rather than not at all.
    std::unique_ptr<store::DmHistory> history;
    if (settings.direct_message_history.enabled) {
        std::string error;
        history = store::DmHistory::open(settings.direct_message_history.sqlite_database, error);
        if (!history) {
            spdlog::error("DM history disabled: cannot open {}: {}",
                          settings.direct_message_history.sqlite_database, error);
        } else {
            const auto pruned = history->prune_older_than(
                settings.direct_message_history.retention_days, timefmt::unix_seconds(started));
            if (!pruned.empty()) spdlog::error("DM history retention: {}", pruned);
            // Ids keep growing across quick restarts (decisions.md §1).
            first_message_id = std::max(first_message_id, history->max_message_id() + 1);
        }
    }
    hooks::WebhookClient webhooks;
    store::ChatLog chat_log;

    config::LiveSettings live(settings);
    boost::asio::io_context ioc;
    // Big frames (image uploads arrive as megabytes of JSON) are parsed here, not on the
    // network thread that every chat message goes through.
    boost::asio::thread_pool frame_parsers(1);
    const boost::asio::any_io_executor large_frames = frame_parsers.get_executor();
    net::ChatService chat(ioc, live, started, first_message_id);
    api::WebApi web_api(live, chat);
    web::Pages pages(live, chat);
    net::PollService poll(ioc, chat, live);
    web::Site site(web_api, pages, poll, live, chat);
    auto listener = std::make_shared<net::Listener>(
        ioc, site, chat,
        net::ListenerOptions{
            [&live] { return http_options(*live.get()); },
            [&live, large_frames] { return websocket_options(*live.get(), large_frames); }});
    try {
        try {
            listener->listen(endpoint);
        } catch (const boost::system::system_error&) {
            // No IPv6 on this host: fall back to every IPv4 interface.
            if (!endpoint.address().is_v6() || !endpoint.address().is_unspecified()) throw;
            endpoint = {boost::asio::ip::address_v4::any(), endpoint.port()};
            listener = std::make_shared<net::Listener>(
                ioc, site, chat,
                net::ListenerOptions{[&live] { return http_options(*live.get()); },
                                     [&live, large_frames] {
                                         return websocket_options(*live.get(), large_frames);
                                     }});
            listener->listen(endpoint);
        }
    } catch (const boost::system::system_error& e) {
        std::cerr << "Error: cannot listen on " << address << ": " << e.what() << "\n";
        return 1;
    }
    const auto local = listener->local_endpoint();
    spdlog::info("BareRTC listening on port {} (http://{}:{})", local.port(),
                 local.address().is_unspecified() ? "localhost" : local.address().to_string(),
                 local.port());
    std::cout << "Listening on port " << local.port() << std::endl;

    // Image decoding runs on its own small pool so it never stalls the chat (design.md §6).
    boost::asio::thread_pool image_workers(1);
    // Database reads and deletes for the API and take-backs block; they run here.
    boost::asio::thread_pool blocking_workers(1);
    int exit_code = 0;
    // Stops accepting, gives every connection `notice` (when not empty) and a 1001 close, and
    // ends the event loop once they are gone (decisions.md §4).
    auto shutdown = [&](int code, std::string_view notice) {
        exit_code = code;
        listener->stop();
        poll.stop();
        chat.shutdown(notice.empty() ? nullptr : chat::chat_server_notice(notice),
                      std::chrono::seconds(5), [&ioc] { ioc.stop(); });
    };
    chat.set_effect_handlers(net::EffectHandlers{
        .reload_settings = [&] { return reload_settings(settings_path, live); },
        .shutdown =
            [&] {
                // /shutdown: exit with status 1 so a supervisor restarts the server
                // (commands.md); the room has already broadcast its notice.
                boost::asio::post(ioc, [&] { shutdown(1, {}); });
            },
        .post_report =
            [&live, &webhooks](chat::effect::PostReport report,
                               std::function<void(std::string)> done) {
                const auto cfg = live.get();
                const auto* hook = cfg->find_webhook("report");
                if (!hook || !hook->enabled) {
                    done("the report webhook is not enabled");
                    return;
                }
                boost::json::object r;
                r["FromUsername"] = report.from_username;
                r["AboutUsername"] = report.about_username;
                r["Channel"] = report.channel;
                r["Timestamp"] = report.timestamp;
                r["Reason"] = report.reason;
                r["Message"] = report.message;
                r["Comment"] = report.comment;
                boost::json::object body;
                body["Action"] = "report";
                body["APIKey"] = cfg->admin_api_key;
                body["Report"] = std::move(r);
                webhooks.post(hook->url, json::compact(body), std::chrono::seconds(10),
                              [done = std::move(done)](hooks::WebhookResult result) {
                                  if (!result.ok) {
                                      metrics::counters().webhook_failures.fetch_add(1);
                                      spdlog::warn("report webhook: {}", result.error);
                                  }
                                  done(result.ok ? std::string() : result.error);
                              });
            },
        .process_image =
            [&](chat::effect::ProcessImage job, std::function<void(chat::ImageOutcome)> done) {
                boost::asio::post(
                    image_workers, [&live, job = std::move(job), done = std::move(done)] {
                        const auto cfg = live.get();
                        media::ImageLimits limits;
                        limits.max_width = cfg->max_image_width;
                        limits.preview_width = cfg->preview_image_width;
                        limits.max_input_bytes = static_cast<std::size_t>(
                            std::max<std::int64_t>(0, cfg->limits.max_image_bytes));
                        limits.max_input_pixels = static_cast<std::uint64_t>(
                            std::max<std::int64_t>(0, cfg->limits.max_image_pixels));
                        auto r = media::process_image(job.bytes, job.filename, limits);
                        done(chat::ImageOutcome{r.ok, std::move(r.html), std::move(r.error)});
                    });
            },
        .store_direct_message =
            [&history](chat::effect::StoreDirectMessage dm) {
                if (history) {
                    history->insert(dm.msg_id, std::move(dm.from), std::move(dm.to),
                                    std::move(dm.html), dm.unix_time);
                }
            },
        .delete_direct_message =
            [&history, &blocking_workers](chat::effect::DeleteDirectMessage del,
                                          std::function<void(bool)> done) {
                if (!history) return done(false);
                boost::asio::post(
                    blocking_workers, [&history, del = std::move(del), done = std::move(done)] {
                        done(history->delete_message(del.msg_id, del.username, del.is_operator));
                    });
            },
        .append_log =
            [&live, &chat_log, &blocking_workers](chat::effect::AppendLog entry) {
                boost::asio::post(blocking_workers, [&chat_log, dir = live.get()->logging.directory,
                                                     entry = std::move(entry)] {
                    chat_log.append(dir, entry.file, entry.line);
                });
            },
    });
    web_api.set_services(history.get(), &webhooks, &blocking_workers);

    web_api.set_shutdown([&] {
        // api.md §7: the answer and the notice go out, the process exits 2 s later.
        auto timer = std::make_shared<boost::asio::steady_timer>(ioc, std::chrono::seconds(2));
        timer->async_wait([&, timer](boost::system::error_code) { shutdown(1, {}); });
    });

    chat.start();
    poll.start();
    listener->start();

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: shutting down", sig);
        shutdown(0, "The chat server is restarting, you will be reconnected shortly.");
    });

    // SIGHUP reloads settings.toml like /reconfigure (decisions.md §5).
    boost::asio::signal_set hangup(ioc, SIGHUP);
    std::function<void()> wait_for_hangup = [&] {
        hangup.async_wait([&](boost::system::error_code ec, int) {
            if (ec) return;
            reload_settings(settings_path, live);
            chat.settings_changed();
            wait_for_hangup();
        });
    };
    wait_for_hangup();

    threads = std::max(1u, threads);
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
    image_workers.join();
    blocking_workers.join();
    frame_parsers.join();
    // Nothing acknowledged is lost on a clean shutdown (decisions.md §2, §10).
    if (history) history->flush();
    webhooks.flush(std::chrono::seconds(3));
    return exit_code;
}
