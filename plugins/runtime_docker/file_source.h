// Which way a container's log is read: the Engine API (log_follower.h) or the engine's json-file
// on disk (file_follower.h), by the option log_source:
//   api   always the API;
//   file  the json-file; a container whose file cannot be used (another log driver, a path the
//         collector cannot read) is followed through the API with a warning: a follow never
//         stops for a file it cannot read, and the cursors of both ways are interchangeable;
//   auto  (default) the json-file when it can be used, the API otherwise, without a warning.
// The file can be used when the container's inspect says HostConfig.LogConfig.Type "json-file"
// and its LogPath is an absolute path this process can open for reading, or that does not exist
// yet in a folder this process can read (a container starting: the engine names the file before
// it creates it; the follow waits for it). A container created
// but not started yet has no LogPath: its file will be <DockerRootDir>/containers/<id>/<id>-json.log
// (the engine's layout; DockerRootDir from GET /info), usable when this process can read that
// folder (the follow then waits for the file to appear).
//
// Thread-safety: pure functions (fileLogPath() makes one engine request).
#pragma once

#include <string>
#include <string_view>

#include <Poco/JSON/Object.h>

#include "engine_client.h"
#include "zc/status.h"

namespace zc::docker {

enum class LogSource { kAuto, kApi, kFile };

// "auto", "api", "file" -> LogSource; InvalidArgument "log_source: ..." otherwise.
Result<LogSource> parseLogSource(std::string_view text);
std::string_view toString(LogSource source) noexcept;

// From an inspect answer: the json-file's path when the file can be used (see above), else
// FailedPrecondition saying why (e.g. "log driver is journald, not json-file").
// `dockerRootDir` (may be empty: unknown) is used only when LogPath is empty.
Result<std::string> usableLogFile(const Poco::JSON::Object::Ptr& inspect,
                                  const std::string& dockerRootDir = "");

// Inspects the container and applies usableLogFile(). NotFound when the container is gone;
// Unavailable when the engine does not answer.
Result<std::string> fileLogPath(EngineClient& engine, std::string_view containerId);

}  // namespace zc::docker
