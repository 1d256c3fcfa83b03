#include "net/chat_service.hpp"

#include "util/metrics.hpp"

#include <boost/asio/post.hpp>

namespace barertc::net {

namespace asio = boost::asio;

ChatService::ChatService(asio::io_context& ioc, config::LiveSettings& settings,
                         chat::Time started_at, std::int64_t first_message_id)
    : strand_(asio::make_strand(ioc)),
      settings_(settings),
      room_(settings.get(), started_at, first_message_id),
      who_timer_(strand_),
      tick_timer_(strand_),
      who_pacer_(std::chrono::milliseconds(
          std::max<std::int64_t>(0, settings.get()->limits.who_list_debounce_ms))) {}

void ChatService::start() {
    asio::post(strand_, [this] { on_tick(); });
}

void ChatService::stop() {
    asio::post(strand_, [this] {
        stopped_ = true;
        who_timer_.cancel();
        tick_timer_.cancel();
    });
}

void ChatService::attach(chat::SessionId id, std::weak_ptr<Connection> conn,
                         chat::ConnectionInfo info) {
    ++connections_;
    asio::post(strand_, [this, id, conn = std::move(conn), info = std::move(info)]() mutable {
        registry_.emplace(id, std::move(conn));
        room_.connect(id, std::move(info));
    });
}

void ChatService::detach(chat::SessionId id, std::string_view presence_text) {
    --connections_;
    asio::post(strand_, [this, id, text = std::string(presence_text)] {
        registry_.erase(id);
        chat::Output out;
        room_.disconnect(id, std::chrono::system_clock::now(), out, text);
        dispatch(out);
    });
}

void ChatService::incoming(chat::SessionId id, chat::ClientMessage msg) {
    metrics::counters().messages_in.fetch_add(1, std::memory_order_relaxed);
    asio::post(strand_, [this, id, msg = std::move(msg)]() mutable {
        chat::Output out;
        room_.handle(id, std::move(msg), std::chrono::system_clock::now(), out);
        dispatch(out);
    });
}

void ChatService::ping(chat::SessionId id) {
    asio::post(strand_, [this, id] {
        chat::Output out;
        room_.ping(id, std::chrono::system_clock::now(), out);
        dispatch(out);
    });
}

void ChatService::with_room(std::function<void(chat::Room&, chat::Output&)> fn) {
    asio::post(strand_, [this, fn = std::move(fn)] {
        chat::Output out;
        fn(room_, out);
        dispatch(out);
    });
}

void ChatService::shutdown(chat::Payload notice, std::chrono::milliseconds deadline,
                           std::function<void()> done) {
    asio::post(strand_, [this, notice = std::move(notice), deadline, done = std::move(done)] {
        stopped_ = true;
        who_timer_.cancel();
        tick_timer_.cancel();
        for (auto& [id, weak] : registry_) {
            if (auto conn = weak.lock()) {
                if (notice) conn->deliver(notice, chat::PayloadKind::Message);
                conn->close_going_away();
            }
        }
        shutdown_until_ = std::chrono::steady_clock::now() + deadline;
        shutdown_done_ = done;
        poll_shutdown();
    });
}

// Runs on the strand until the connections are gone (detach() decrements the count as each
// one closes) or the deadline has passed.
void ChatService::poll_shutdown() {
    if (connections_.load() == 0 || std::chrono::steady_clock::now() >= shutdown_until_) {
        if (auto done = std::move(shutdown_done_)) done();
        return;
    }
    tick_timer_.expires_after(std::chrono::milliseconds(20));
    tick_timer_.async_wait([this](boost::system::error_code) { poll_shutdown(); });
}

void ChatService::gauges(std::function<void(metrics::Gauges)> done) {
    asio::post(strand_, [this, done = std::move(done)] {
        metrics::Gauges g;
        g.users_online = static_cast<std::int64_t>(room_.online_count());
        g.connections = static_cast<std::int64_t>(connections_.load());
        for (auto& [id, weak] : registry_) {
            if (auto conn = weak.lock())
                g.outbox_bytes += static_cast<std::int64_t>(conn->queued_bytes());
        }
        done(g);
    });
}

void ChatService::settings_changed() {
    asio::post(strand_, [this] {
        const auto cfg = settings_.get();
        room_.set_settings(cfg);
        who_pacer_.set_quiet(
            std::chrono::milliseconds(std::max<std::int64_t>(0, cfg->limits.who_list_debounce_ms)));
    });
}

void ChatService::dispatch(chat::Output& out) {
    // Effects first: a DM is queued for the history before its echo can reach the sender
    // (decisions.md §2).
    auto effects = std::move(out.effects);
    out.effects.clear();
    for (auto& e : effects) run_effect(e);
    metrics::counters().deliveries.fetch_add(out.deliveries.size(), std::memory_order_relaxed);
    for (auto& d : out.deliveries) {
        auto it = registry_.find(d.to);
        if (it == registry_.end()) continue;
        if (auto conn = it->second.lock()) conn->deliver(d.payload, d.kind);
    }
    out.deliveries.clear();
    note_who_changes();
}

void ChatService::run_effect(chat::Effect& effect) {
    if (auto* reload = std::get_if<chat::effect::ReloadSettings>(&effect)) {
        const std::string error =
            effects_.reload_settings ? effects_.reload_settings() : "reloading is not available";
        room_.set_settings(settings_.get());
        chat::Output out;
        room_.reconfigured(reload->requester, error, out);
        dispatch(out);
    } else if (std::holds_alternative<chat::effect::Shutdown>(effect)) {
        if (effects_.shutdown) effects_.shutdown();
    } else if (auto* image = std::get_if<chat::effect::ProcessImage>(&effect)) {
        if (!effects_.process_image) return;
        const auto from = image->from;
        auto channel = image->channel;
        effects_.process_image(std::move(*image), [this, from, channel = std::move(channel)](
                                                      chat::ImageOutcome result) {
            asio::post(strand_, [this, from, channel, result = std::move(result)]() mutable {
                chat::Output out;
                room_.image_ready(from, channel, std::move(result),
                                  std::chrono::system_clock::now(), out);
                dispatch(out);
            });
        });
    } else if (auto* log = std::get_if<chat::effect::AppendLog>(&effect)) {
        if (effects_.append_log) effects_.append_log(std::move(*log));
    } else if (auto* store = std::get_if<chat::effect::StoreDirectMessage>(&effect)) {
        if (effects_.store_direct_message) effects_.store_direct_message(std::move(*store));
    } else if (auto* del = std::get_if<chat::effect::DeleteDirectMessage>(&effect)) {
        const bool answer = del->answer;
        const auto requester = del->requester;
        const auto msg_id = del->msg_id;
        if (!effects_.delete_direct_message) {
            if (answer) {
                chat::Output out;
                room_.takeback_checked(requester, msg_id, false, out);
                dispatch(out);
            }
            return;
        }
        effects_.delete_direct_message(
            std::move(*del), [this, answer, requester, msg_id](bool deleted) {
                if (!answer) return;
                asio::post(strand_, [this, requester, msg_id, deleted] {
                    chat::Output out;
                    room_.takeback_checked(requester, msg_id, deleted, out);
                    dispatch(out);
                });
            });
    } else if (auto* report = std::get_if<chat::effect::PostReport>(&effect)) {
        if (!effects_.post_report) return;
        const auto reply_to = report->reply_to;
        effects_.post_report(std::move(*report), [this, reply_to](std::string error) {
            if (!reply_to) return;
            asio::post(strand_, [this, reply_to, error = std::move(error)] {
                chat::Output out;
                room_.report_result(*reply_to, error, out);
                dispatch(out);
            });
        });
    }
}

void ChatService::note_who_changes() {
    if (!room_.who_dirty() || stopped_) return;
    const auto changes = room_.who_changes();
    if (changes == who_changes_seen_) return;
    who_changes_seen_ = changes;
    if (auto at = who_pacer_.changed(std::chrono::steady_clock::now())) wake_for_who_lists_at(*at);
}

void ChatService::wake_for_who_lists_at(std::chrono::steady_clock::time_point at) {
    who_timer_.expires_at(at);
    who_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !stopped_) on_who_wake_up();
    });
}

void ChatService::on_who_wake_up() {
    if (auto later = who_pacer_.due(std::chrono::steady_clock::now())) {
        wake_for_who_lists_at(*later);
        return;
    }
    chat::Output out;
    room_.flush_who(out);
    std::size_t round_bytes = 0;
    for (const auto& d : out.deliveries) round_bytes += d.payload->size();
    who_pacer_.sent(round_bytes);
    dispatch(out);
}

void ChatService::on_tick() {
    if (stopped_) return;
    chat::Output out;
    room_.tick(std::chrono::system_clock::now(), out);
    dispatch(out);
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, weak] : registry_) {
        if (auto conn = weak.lock()) conn->check_health(now);
    }
    tick_timer_.expires_after(std::chrono::seconds(1));
    tick_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) on_tick();
    });
}

}  // namespace barertc::net
