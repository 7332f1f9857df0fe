// The files of one container log and their identities: what FileTail needs to tell which file
// is which across rotations (listing the set, hashing a file's first line, matching a file
// against an identity). Shared by the tail and its tests; no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zc/status.h"

namespace zc::logfile {

struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t headLen = 0;   // bytes hashed: the first line with its '\n' (0: not yet written)
  uint64_t headHash = 0;  // FNV-1a 64 of those bytes

  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

struct FilePosition {
  FileIdentity file;
  uint64_t offset = 0;  // in the file's uncompressed content

  friend bool operator==(const FilePosition&, const FilePosition&) = default;
};

// The most bytes hashed for a file's identity.
inline constexpr uint32_t kHeadBytes = 4096;

// FNV-1a 64.
uint64_t fnv1a64(std::string_view bytes) noexcept;

// One file of a log set.
struct LogFileEntry {
  std::string path;
  int index = 0;    // 0 = live, N = rotated `.N` / `.N.gz`
  bool gz = false;
};

// The files of the log at `livePath`, oldest first (highest index first, the live one last).
// A plain `.N` hides a `.N.gz`. Only `.N` with N in 1..9999 count.
std::vector<LogFileEntry> listLogFiles(const std::string& livePath);

// The first line (with its '\n') of `bytes`, capped at kHeadBytes; empty when there is no '\n'
// within the first kHeadBytes and fewer bytes than that.
std::string_view headOf(std::string_view bytes);

// The first kHeadBytes of a whole file (decompressed for a `.gz`), for matching against an
// identity. Unavailable when it cannot be opened.
Result<std::string> fileHead(const LogFileEntry& e);

// Whether `bytes` (a file's head) starts with the line `id` hashed.
bool headMatches(std::string_view bytes, const FileIdentity& id);

// Whether `e` is the file `id` names: the same inode and (when known) the same first line, so
// that an inode the file system reused for a new file is not taken for a deleted one; or, for a
// compressed file, the same first line.
bool sameFile(const LogFileEntry& e, const FileIdentity& id);

// Whether files[from..to] are numbered without a hole: each one's index one above the next
// one's (the live file is 0). The engine renames the rotated files one at a time, the oldest
// first (`.N-1` -> `.N`, ..., `<path>` -> `.1`), then creates the live file: a listing taken
// between two of those renames has a hole (`.2` and the live file, no `.1`), and the files on
// both sides of it are not each other's successors once the rotation completes (the live name
// then names a newer file). In a listing without a hole, the next file listed is the successor.
bool numberedWithoutHole(const std::vector<LogFileEntry>& files, size_t from, size_t to);

// Whether the name `e` is (still) the file with this inode.
bool namesFile(const LogFileEntry& e, uint64_t dev, uint64_t ino);

}  // namespace zc::logfile
