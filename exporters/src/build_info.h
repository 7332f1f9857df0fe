// What was built: the project version (CMake's project(VERSION)) and the git revision of the
// source tree when it was configured ("unknown" outside a git checkout or without git), for
// zynd_collector_build_info. Generated into the build folder from build_info.cpp.in.
#pragma once

namespace zc::exporters {

const char* buildVersion() noexcept;
const char* buildRevision() noexcept;

}  // namespace zc::exporters
