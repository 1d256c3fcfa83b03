#pragma once
// The running settings, shared by every thread. A reload swaps the whole struct; readers keep
// the snapshot they took for as long as they need it.

#include "config/settings.hpp"

#include <memory>
#include <mutex>

namespace barertc::config {

class LiveSettings {
  public:
    explicit LiveSettings(Settings initial)
        : current_(std::make_shared<const Settings>(std::move(initial))) {}

    std::shared_ptr<const Settings> get() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    void set(Settings next) {
        auto p = std::make_shared<const Settings>(std::move(next));
        std::lock_guard lock(mutex_);
        current_ = std::move(p);
    }

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<const Settings> current_;
};

}  // namespace barertc::config
