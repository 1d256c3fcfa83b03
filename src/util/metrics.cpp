#include "util/metrics.hpp"

namespace barertc::metrics {

Counters& counters() {
    static Counters c;
    return c;
}

void Counters::count_api(const std::string& path, unsigned status) {
    std::lock_guard lock(mutex_);
    ++api_calls_[{path, status}];
}

std::map<std::pair<std::string, unsigned>, std::uint64_t> Counters::api_calls() const {
    std::lock_guard lock(mutex_);
    return api_calls_;
}

namespace {

void metric(std::string& out, const char* name, const char* type, const char* help,
            std::uint64_t value) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    out += name;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
}

// Label values escape backslash, double quote and newline (exposition format 0.0.4).
std::string label_value(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out.push_back(c);
    }
    return out;
}

}  // namespace

std::string render(const Gauges& gauges) {
    const auto& c = counters();
    std::string out;
    metric(out, "barertc_users_online", "gauge", "Logged-in chat users.",
           static_cast<std::uint64_t>(gauges.users_online));
    metric(out, "barertc_connections", "gauge", "Open WebSocket connections and poll sessions.",
           static_cast<std::uint64_t>(gauges.connections));
    metric(out, "barertc_outbox_bytes", "gauge", "Bytes queued for clients, not yet written.",
           static_cast<std::uint64_t>(gauges.outbox_bytes));
    metric(out, "barertc_messages_in_total", "counter", "Protocol messages received from clients.",
           c.messages_in.load(std::memory_order_relaxed));
    metric(out, "barertc_deliveries_total", "counter", "Frames handed to client outboxes.",
           c.deliveries.load(std::memory_order_relaxed));
    metric(out, "barertc_slow_clients_dropped_total", "counter",
           "Clients dropped for not keeping up with their messages.",
           c.slow_clients_dropped.load(std::memory_order_relaxed));
    metric(out, "barertc_webhook_failures_total", "counter", "Webhook calls that failed.",
           c.webhook_failures.load(std::memory_order_relaxed));
    out +=
        "# HELP barertc_api_requests_total Web API requests by path and status.\n"
        "# TYPE barertc_api_requests_total counter\n";
    for (const auto& [key, count] : c.api_calls()) {
        out += "barertc_api_requests_total{path=\"" + label_value(key.first) + "\",status=\"" +
               std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
    return out;
}

}  // namespace barertc::metrics
