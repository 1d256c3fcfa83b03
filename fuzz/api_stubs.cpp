// Link-time stand-ins for the DM-history and webhook methods the web API handlers name. The
// fuzzed WebApi is given no database and no webhook client (set_services is never called), so
// these are unreachable; they exist so fuzz targets need not compile SQLite storage and the
// Beast/TLS webhook client (src/store, src/hooks), which the handlers only reach through a
// pointer that stays null here.

#include "hooks/webhook_client.hpp"
#include "store/dm_history.hpp"

#include <cstdlib>

namespace barertc::store {
DmHistory::Page DmHistory::history(std::string_view, std::string_view, std::int64_t) {
    std::abort();
}
DmHistory::UsernamesPage DmHistory::usernames(std::string_view, std::string_view, std::int64_t) {
    std::abort();
}
DmHistory::ClearResult DmHistory::clear(std::string_view) {
    std::abort();
}
}  // namespace barertc::store

namespace barertc::hooks {
void WebhookClient::post(std::string, std::string, std::chrono::seconds,
                         std::function<void(WebhookResult)>) {
    std::abort();
}
}  // namespace barertc::hooks
