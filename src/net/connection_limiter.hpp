#pragma once
// Caps on open connections, in total and per client address ([Limits] MaxConnections and
// ConnectionsPerIP; 0 = no cap). Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace barertc::net {

class ConnectionLimiter {
  public:
    // Takes a slot for `address` unless a cap is reached.
    bool try_acquire(const std::string& address, std::int64_t max_total, std::int64_t max_per_ip) {
        std::lock_guard lock(mutex_);
        if (max_total > 0 && total_ >= max_total) return false;
        auto& n = per_ip_[address];
        if (max_per_ip > 0 && n >= max_per_ip) {
            if (n == 0) per_ip_.erase(address);
            return false;
        }
        ++n;
        ++total_;
        return true;
    }

    void release(const std::string& address) {
        std::lock_guard lock(mutex_);
        auto it = per_ip_.find(address);
        if (it == per_ip_.end()) return;
        if (--it->second <= 0) per_ip_.erase(it);
        --total_;
    }

  private:
    std::mutex mutex_;
    std::int64_t total_ = 0;
    std::unordered_map<std::string, std::int64_t> per_ip_;
};

}  // namespace barertc::net
