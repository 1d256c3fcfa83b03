#pragma once
// Runs the Room on its own strand and carries its deliveries to the connections. This is the
// only place where the chat core meets the transport: connections post events here, and the
// room's output is handed to their outboxes.

#include "chat/room.hpp"
#include "config/live_settings.hpp"
#include "net/connection.hpp"
#include "net/who_list_pacer.hpp"
#include "util/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <unordered_map>

namespace barertc::net {

// How the room's requests to the outside world are carried out (set by main).
struct EffectHandlers {
    // Reloads settings.toml into the live settings; returns an error text, empty on success.
    std::function<std::string()> reload_settings;
    // Ends the process after the room's last notices had a moment to go out.
    std::function<void()> shutdown;
    // Posts a report webhook; `done` gets an error text (empty on success), on any thread.
    std::function<void(chat::effect::PostReport, std::function<void(std::string)> done)>
        post_report;
    // Processes an uploaded image on a worker; `done` may run on any thread.
    std::function<void(chat::effect::ProcessImage, std::function<void(chat::ImageOutcome)> done)>
        process_image;
    // Queues a DM for the history database (never blocks).
    std::function<void(chat::effect::StoreDirectMessage)> store_direct_message;
    // Deletes a stored DM on a worker; `done(deleted)` may run on any thread.
    std::function<void(chat::effect::DeleteDirectMessage, std::function<void(bool)> done)>
        delete_direct_message;
    // Appends a line to a chat log file (never blocks the room).
    std::function<void(chat::effect::AppendLog)> append_log;
};

class ChatService {
  public:
    using Executor = boost::asio::io_context::executor_type;

    ChatService(boost::asio::io_context& ioc, config::LiveSettings& settings, chat::Time started_at,
                std::int64_t first_message_id);

    void set_effect_handlers(EffectHandlers handlers) { effects_ = std::move(handlers); }

    // Starts the housekeeping timer (reboot grace, health checks).
    void start();
    void stop();

    chat::SessionId new_session_id() { return next_id_.fetch_add(1) + 1; }

    // All thread-safe: each posts to the room's strand.
    void attach(chat::SessionId id, std::weak_ptr<Connection> conn, chat::ConnectionInfo info);
    void detach(chat::SessionId id, std::string_view presence_text = chat::presence::kExited);
    void incoming(chat::SessionId id, chat::ClientMessage msg);
    void ping(chat::SessionId id);
    // Runs `fn` on the room's strand with access to the room; its output is delivered.
    void with_room(std::function<void(chat::Room&, chat::Output&)> fn);
    // Graceful shutdown (decisions.md §4): every connection gets `notice` (unless null), then
    // a 1001 close
    // once its outbox is written. `done` runs on the room's strand when all are closed or
    // `deadline` has passed.
    void shutdown(chat::Payload notice, std::chrono::milliseconds deadline,
                  std::function<void()> done);
    // The current gauges for /metrics; `done` runs on the room's strand.
    void gauges(std::function<void(metrics::Gauges)> done);
    // Picks up reloaded settings.
    void settings_changed();

    std::size_t connection_count() const { return connections_.load(); }

  private:
    void dispatch(chat::Output& out);
    void run_effect(chat::Effect& effect);
    void note_who_changes();
    void wake_for_who_lists_at(std::chrono::steady_clock::time_point at);
    void on_who_wake_up();
    void on_tick();
    void poll_shutdown();

    boost::asio::strand<Executor> strand_;
    config::LiveSettings& settings_;
    chat::Room room_;
    EffectHandlers effects_;
    std::unordered_map<chat::SessionId, std::weak_ptr<Connection>> registry_;
    boost::asio::steady_timer who_timer_;
    boost::asio::steady_timer tick_timer_;
    WhoListPacer who_pacer_;
    std::uint64_t who_changes_seen_ = 0;
    bool stopped_ = false;
    std::chrono::steady_clock::time_point shutdown_until_{};
    std::function<void()> shutdown_done_;
    std::atomic<chat::SessionId> next_id_{0};
    std::atomic<std::size_t> connections_{0};
};

}  // namespace barertc::net
