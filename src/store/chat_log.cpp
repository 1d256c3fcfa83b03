#include "store/chat_log.hpp"

#include <spdlog/spdlog.h>

namespace barertc::store {

void ChatLog::append(const std::filesystem::path& directory, const std::string& file,
                     const std::string& line) {
    const auto path = directory / file;
    std::lock_guard lock(mutex_);
    auto it = files_.find(path);
    if (it == files_.end()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) {
            spdlog::error("chat log: cannot create {}: {}", path.parent_path().string(),
                          ec.message());
            return;
        }
        std::ofstream out(path, std::ios::app | std::ios::binary);
        if (!out) {
            spdlog::error("chat log: cannot open {}", path.string());
            return;
        }
        it = files_.emplace(path, std::move(out)).first;
    }
    it->second << line;
    it->second.flush();
    if (!it->second) {
        spdlog::error("chat log: cannot write {}", path.string());
        files_.erase(it);
    }
}

void ChatLog::flush() {
    std::lock_guard lock(mutex_);
    for (auto& [path, out] : files_) out.flush();
}

}  // namespace barertc::store
