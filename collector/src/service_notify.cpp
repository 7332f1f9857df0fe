#include "service_notify.h"

#include <string>

#ifdef ZC_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace zc::collector {
namespace {

void notify(const std::string& state) noexcept {
#ifdef ZC_HAVE_LIBSYSTEMD
  (void)sd_notify(0, state.c_str());  // < 0: not sent; nothing the daemon can do about it
#else
  (void)state;
#endif
}

}  // namespace

void notifyReady(std::string_view status) noexcept {
  try {
    notify("READY=1\nSTATUS=" + std::string(status));
  } catch (...) {
    // Only allocation can fail here.
  }
}

void notifyStopping() noexcept {
  try {
    notify("STOPPING=1\nSTATUS=stopping");
  } catch (...) {
  }
}

void notifyReloading() noexcept {
  try {
    notify("RELOADING=1");
  } catch (...) {
  }
}

}  // namespace zc::collector
