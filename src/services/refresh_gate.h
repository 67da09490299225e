#pragma once
// Stale-while-revalidate bookkeeping for partner statuses (issue 19, RFC 5861): at most one
// background refresh per application at a time, and at most one attempt per application per TTL
// on this instance, even when the LOS is down; and when this instance last found a stored status
// unchanged (that confirmation is not written to the database).
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace leadgate {

class RefreshGate {
 public:
  // Entries older than the TTL are pruned once the map holds this many.
  static constexpr std::size_t kPruneAbove = 100000;

  // True when the caller should start a refresh of `id` now: none is running for it and none
  // started within `ttl_ms` of `now_ms`. The caller must call finish(id) when it ends.
  bool try_begin(std::int64_t id, std::int64_t now_ms, std::int64_t ttl_ms) {
    std::lock_guard lock(mutex_);
    if (attempts_.size() >= kPruneAbove) prune(now_ms, ttl_ms);
    auto [it, inserted] = attempts_.try_emplace(id, Attempt{now_ms, true, 0});
    if (inserted) return true;
    Attempt& a = it->second;
    if (a.running || now_ms - a.started_ms < ttl_ms) return false;
    a = Attempt{now_ms, true, a.confirmed_ms};
    return true;
  }

  void finish(std::int64_t id) {
    std::lock_guard lock(mutex_);
    if (auto it = attempts_.find(id); it != attempts_.end()) it->second.running = false;
  }

  // A refresh found the stored status unchanged at `at_ms`: kept here, not written (a read
  // writes nothing unless the status changed), so this instance treats it as fresh until the TTL.
  void confirm(std::int64_t id, std::int64_t at_ms) {
    std::lock_guard lock(mutex_);
    if (auto it = attempts_.find(id); it != attempts_.end()) {
      it->second.confirmed_ms = std::max(it->second.confirmed_ms, at_ms);
    }
  }
  // When this instance last confirmed `id`'s stored status (0: never, or pruned).
  std::int64_t confirmed(std::int64_t id) const {
    std::lock_guard lock(mutex_);
    const auto it = attempts_.find(id);
    return it == attempts_.end() ? 0 : it->second.confirmed_ms;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return attempts_.size();
  }

 private:
  struct Attempt {
    std::int64_t started_ms = 0;
    bool running = false;
    std::int64_t confirmed_ms = 0;
  };

  void prune(std::int64_t now_ms, std::int64_t ttl_ms) {
    std::erase_if(attempts_, [&](const auto& kv) {
      return !kv.second.running && now_ms - kv.second.started_ms >= ttl_ms;
    });
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::int64_t, Attempt> attempts_;
};

}  // namespace leadgate
