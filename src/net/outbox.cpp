#include "net/outbox.hpp"

namespace barertc::net {

Outbox::Push Outbox::push(chat::Payload payload, chat::PayloadKind kind, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (closed_) return Push::Closed;
    if (kind == chat::PayloadKind::WhoList && who_seq_) {
        auto& slot = frames_[*who_seq_ - front_seq_];
        bytes_ = bytes_ - slot->size() + payload->size();
        slot = std::move(payload);
    } else {
        bytes_ += payload->size();
        frames_.push_back(std::move(payload));
        if (kind == chat::PayloadKind::WhoList) who_seq_ = front_seq_ + frames_.size() - 1;
    }
    if (over_limits(now)) return Push::Overflow;
    if (writing_) return Push::Queued;
    writing_ = true;
    return Push::StartWrite;
}

bool Outbox::over_limits(Clock::time_point now) {
    if (bytes_ > limits_.hard_bytes) return true;
    if (bytes_ <= limits_.soft_bytes) {
        over_soft_since_.reset();
        return false;
    }
    if (!over_soft_since_) over_soft_since_ = now;
    return now - *over_soft_since_ > limits_.soft_duration;
}

std::optional<chat::Payload> Outbox::next() {
    std::lock_guard lock(mutex_);
    if (frames_.empty() || closed_) {
        writing_ = false;
        return std::nullopt;
    }
    chat::Payload p = pop_front();
    if (bytes_ <= limits_.soft_bytes) over_soft_since_.reset();
    return p;
}

bool Outbox::take(std::vector<chat::Payload>& out, std::size_t max_frames, std::size_t max_bytes) {
    std::lock_guard lock(mutex_);
    if (frames_.empty() || closed_) {
        writing_ = false;
        return false;
    }
    std::size_t taken_bytes = 0;
    while (!frames_.empty() && out.size() < max_frames) {
        const std::size_t size = frames_.front()->size();
        if (!out.empty() && taken_bytes + size > max_bytes) break;
        taken_bytes += size;
        out.push_back(pop_front());
    }
    if (bytes_ <= limits_.soft_bytes) over_soft_since_.reset();
    return true;
}

chat::Payload Outbox::pop_front() {
    chat::Payload p = std::move(frames_.front());
    frames_.pop_front();
    bytes_ -= p->size();
    if (who_seq_ && *who_seq_ == front_seq_) who_seq_.reset();
    ++front_seq_;
    return p;
}

bool Outbox::stuck(Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    return over_soft_since_ && now - *over_soft_since_ > limits_.soft_duration;
}

void Outbox::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    frames_.clear();
    bytes_ = 0;
    who_seq_.reset();
}

std::size_t Outbox::queued_bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

std::size_t Outbox::queued_frames() const {
    std::lock_guard lock(mutex_);
    return frames_.size();
}

}  // namespace barertc::net
