#pragma once
// Process-wide counters for /metrics (decisions.md §9), written in the Prometheus text
// exposition format 0.0.4. Counters are relaxed atomics: exact ordering does not matter.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace barertc::metrics {

struct Counters {
    std::atomic<std::uint64_t> messages_in{0};
    std::atomic<std::uint64_t> deliveries{0};
    std::atomic<std::uint64_t> slow_clients_dropped{0};
    std::atomic<std::uint64_t> webhook_failures{0};

    void count_api(const std::string& path, unsigned status);
    // {path, status} → count, copied under the lock.
    std::map<std::pair<std::string, unsigned>, std::uint64_t> api_calls() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, unsigned>, std::uint64_t> api_calls_;
};

Counters& counters();

struct Gauges {
    std::int64_t users_online = 0;
    std::int64_t connections = 0;
    std::int64_t outbox_bytes = 0;
};

// The whole exposition text.
std::string render(const Gauges& gauges);

}  // namespace barertc::metrics
