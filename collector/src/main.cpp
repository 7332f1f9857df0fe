#include "collector_app.h"

int main(int argc, char** argv) {
  zc::collector::CollectorApp app;
  return app.runMain(argc, argv);
}
