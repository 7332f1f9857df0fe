#include "zc/clock.h"

#include <time.h>

namespace zc {
namespace {

class SystemClock final : public Clock {
 public:
  TimeNs now() const noexcept override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<TimeNs>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
  }
};

}  // namespace

Clock& systemClock() noexcept {
  static SystemClock clock;
  return clock;
}

}  // namespace zc
