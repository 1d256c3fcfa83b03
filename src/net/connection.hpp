#pragma once
// What the room host needs from a client connection, whatever its transport.

#include "chat/room.hpp"

#include <chrono>

namespace barertc::net {

class Connection {
  public:
    virtual ~Connection() = default;
    // Queues a frame; thread-safe. May decide the client is too slow and drop it.
    virtual void deliver(const chat::Payload& payload, chat::PayloadKind kind) = 0;
    // Called about once a second: drop the client if a write has stalled or its backlog has
    // stayed too large.
    virtual void check_health(std::chrono::steady_clock::time_point now) = 0;
    // Server shutdown: write what is queued, then close as "going away" (1001).
    virtual void close_going_away() = 0;
    // Bytes waiting in the outbox (for /metrics).
    virtual std::size_t queued_bytes() const { return 0; }
};

}  // namespace barertc::net
