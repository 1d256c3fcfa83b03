#pragma once
// Plain-text chat logs (features.md §7): one file per logged channel, one per monitored user
// and partner. Appends happen on a worker; files stay open between lines.

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

namespace barertc::store {

class ChatLog {
  public:
    // Appends `line` to `directory/file`, creating folders (0755) and the file (0644) as
    // needed. Failures are logged, never thrown: logging must not stop the chat.
    void append(const std::filesystem::path& directory, const std::string& file,
                const std::string& line);
    void flush();

  private:
    std::mutex mutex_;
    std::map<std::filesystem::path, std::ofstream> files_;
};

}  // namespace barertc::store
