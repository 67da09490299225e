#pragma once
// What a use case needs to know about the call it serves, whoever made it (an HTTP request or a
// background job): the id its logs, audit rows and partner calls carry, the environment once
// known, and when the work started (audit durations).
#include <chrono>
#include <cstdint>
#include <string>

namespace leadgate {

struct Trace {
  std::string request_id;
  std::string environment;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::int64_t elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started)
        .count();
  }
};

}  // namespace leadgate
