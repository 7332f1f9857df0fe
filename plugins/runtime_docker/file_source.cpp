#include "file_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zc::docker {

Result<LogSource> parseLogSource(std::string_view text) {
  if (text == "auto") return LogSource::kAuto;
  if (text == "api") return LogSource::kApi;
  if (text == "file") return LogSource::kFile;
  std::string shown(text.substr(0, 40));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return Status::invalidArgument("log_source: '" + shown + "' is not auto, api or file");
}

std::string_view toString(LogSource source) noexcept {
  switch (source) {
    case LogSource::kAuto:
      return "auto";
    case LogSource::kApi:
      return "api";
    case LogSource::kFile:
      return "file";
  }
  return "auto";
}

Result<std::string> usableLogFile(const Poco::JSON::Object::Ptr& o,
                                  const std::string& dockerRootDir) {
  try {
    if (!o) return Status::failedPrecondition("no inspect answer");
    std::string type;
    if (auto host = o->getObject("HostConfig")) {
      if (auto lc = host->getObject("LogConfig")) type = lc->optValue<std::string>("Type", "");
    }
    if (type != "json-file") {
      return Status::failedPrecondition("log driver is '" + type.substr(0, 40) +
                                        "', not json-file");
    }
    std::string path = o->optValue<std::string>("LogPath", "");
    if (path.empty()) {
      // Created, not started: the engine names the file at the first start.
      std::string id = o->optValue<std::string>("Id", "");
      bool safeId = !id.empty() && id.size() <= 128 &&
                    id.find_first_not_of("0123456789abcdef") == std::string::npos;
      if (!safeId || dockerRootDir.empty() || dockerRootDir.front() != '/') {
        return Status::failedPrecondition("the engine gives no log file path");
      }
      std::string dir = dockerRootDir + "/containers/" + id;
      if (::access(dir.c_str(), R_OK | X_OK) != 0) {
        return Status::failedPrecondition("cannot read " + dir + ": " + std::strerror(errno));
      }
      return dir + "/" + id + "-json.log";
    }
    if (path.front() != '/' || path.find('\0') != std::string::npos) {
      return Status::failedPrecondition("the engine gives no usable log file path");
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      // Starting: the engine has named the file but not created it yet (a follow begun then
      // must not go to the API for good). Usable when its folder is readable; the follow waits
      // for the file to appear.
      int openErrno = errno;
      std::string dir = path.substr(0, path.rfind('/'));
      if (!dir.empty() && ::access(dir.c_str(), R_OK | X_OK) == 0) return path;
      return Status::failedPrecondition("cannot read " + path + ": " + std::strerror(openErrno));
    }
    if (fd < 0) {
      return Status::failedPrecondition("cannot read " + path + ": " + std::strerror(errno));
    }
    ::close(fd);
    return path;
  } catch (const std::exception& e) {
    return Status::failedPrecondition(std::string("unexpected inspect answer: ") + e.what());
  }
}

Result<std::string> fileLogPath(EngineClient& engine, std::string_view containerId) {
  ZC_ASSIGN_OR_RETURN(Poco::JSON::Object::Ptr o,
                      engine.getObject("/containers/" + std::string(containerId) + "/json"));
  std::string root;
  if (o && o->optValue<std::string>("LogPath", "").empty()) {
    auto info = engine.getObject("/info");
    if (info.isOk() && info.value()) root = info.value()->optValue<std::string>("DockerRootDir", "");
  }
  return usableLogFile(o, root);
}

}  // namespace zc::docker
