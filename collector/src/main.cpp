#include <malloc.h>

#include "collector_app.h"

int main(int argc, char** argv) {
  // Blocks of 256 KiB and more (log pages of long lines, large batches) are mapped on their own
  // and given back to the system when freed. A fixed threshold also turns off glibc's dynamic
  // one, which after the first such free would serve them from per-thread arenas that keep the
  // memory: with 16 HTTP workers, a few concurrent pages of megabyte lines would then leave
  // hundreds of MiB resident.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  zc::collector::CollectorApp app;
  return app.runMain(argc, argv);
}
