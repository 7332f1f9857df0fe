// FileTail: follows one container log file by position, across its rotations.
//
// A log is a set of files: the live one (`<path>`, e.g. `<id>-json.log`) and the ones rotated
// by rename, `<path>.1` (the newest) ... `<path>.N`, each possibly compressed to `<path>.N.gz`
// (Docker's json-file with compress=true; a plain `.N` wins while both exist, the `.gz` is
// being written). Lines never span files.
//
// A position is a file identity plus a byte offset of its uncompressed content. The identity is
// the device + inode (what a rename keeps) and a hash of the file's first line (up to 4 KiB;
// every line carries a nanosecond timestamp, so it tells files apart): a compressed file has a
// new inode and is recognised by its first line alone; a file truncated and written again keeps
// its inode but not its first line. seek() finds the file a position points at among the
// current files; read() then hands out what remains of it and of every newer file, in order,
// line by line, and keeps following the live file:
//   - rename rotation: at the end of the live file, when `<path>` is another inode (or gone),
//     the old file is read to its end through the descriptor still open, then the next newer
//     file (found by the old one's identity in a new listing; when the old file is gone, every
//     remaining file is newer and the oldest of them is next). Each refill of the read buffer
//     also opens every newer file that appeared (up to 32 held), so a follow that is behind
//     keeps them even when the engine deletes them (max-file) before it gets there. Only a
//     listing numbered without a hole from the file finished (or held) to the next one decides
//     which file follows (a listing taken between two renames of one rotation does not; see
//     README.md, "Rotation"); whenever the successor cannot be proven that way, the tail goes
//     on with a discontinuity (takeDiscontinuity());
//   - truncation: the live file shorter than the offset, or its first line changed (checked
//     when read() is asked to verify, before it reads), restarts at offset 0 of the file now
//     there (counted, with a warning).
//
// Thread-safety: none; one per follow (called from one thread at a time).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "log_file_set.h"
#include "read_buffer.h"
#include "zc/status.h"

namespace zc::logfile {

// How the engine rotates a log.
enum class Rotation {
  // The live file is renamed to `.1` (older ones shift), and a new live file is created:
  // Docker's json-file. A file read to its end that is no longer listed was deleted (max-file),
  // so files between it and the oldest one listed may be gone: a discontinuity.
  kRename,
  // A new file (a new inode) takes the live path's place and the old one is gone, with no
  // numbered backups: Podman's k8s-file at max-size. A file read to its end that is no longer
  // listed is the normal case, not a discontinuity; its successor is the live file. A file
  // that takes the live path's place and is itself replaced before the tail looks again (two
  // replacements between two looks) leaves no trace in the listing: only the count of files
  // created at the path tells (setCreationCounter()); with it, the tail reports a
  // discontinuity when it goes on from a file to one created more than one creation later.
  // A counter that cannot count (no inotify) makes every replacement a possible discontinuity.
  kReplace,
};

class FileTail {
 public:
  // `maxLineBytes`: a line longer than this (no '\n' within it) is cut there and handed out in
  // pieces of that size (the decoder then refuses them as malformed; they are counted).
  explicit FileTail(std::string livePath, size_t maxLineBytes = 8 << 20,
                    Rotation rotation = Rotation::kRename);
  ~FileTail();
  FileTail(const FileTail&) = delete;
  FileTail& operator=(const FileTail&) = delete;

  // Positions the tail at `pos`. true: found (the next line handed out is the one at pos.offset
  // of that file); false: no current file is that one (nothing changed). IO errors: Unavailable.
  Result<bool> seek(const FilePosition& pos);
  // Positions the tail at the start of the oldest file of the set (or of the live file once it
  // appears). Never fails for a missing log: read() then waits for the live file.
  Status seekOldest();

  enum class ReadOutcome {
    kMore,  // stopped at maxBytes or by onLine: more may be there
    kIdle,  // at the end of the live file, nothing more for now
  };
  // One line (without '\n'), where it starts, and where the next one starts (same file).
  using OnLine = std::function<bool(std::string_view line, const FilePosition& start,
                                    const FilePosition& next)>;
  // Hands out complete lines until about `maxBytes` were read, onLine returns false, or the end
  // of the live file. `verify`: also check that the live file was not truncated and rewritten
  // (reads its first line again; do it on a timer, not on every wake-up).
  Result<ReadOutcome> read(const OnLine& onLine, size_t maxBytes, bool verify = false);

  // The position after the last line handed out (or the position seeked to).
  FilePosition position() const;
  // The live path.
  const std::string& path() const noexcept { return livePath_; }
  // The birth time (ns since the epoch) of the first file seekOldest() opened, nullopt before
  // that or when the file system does not keep it. Read through the open file, so a later
  // replacement of the path does not change it.
  std::optional<int64_t> startFileBirthNs() const noexcept { return startBirthNs_; }
  // Events seen so far (diagnostics, tests).
  uint64_t rotations() const noexcept { return rotations_; }
  uint64_t truncations() const noexcept { return truncations_; }
  // The bytes of memory the read buffer holds, and how many times it was replaced (grown or
  // given back; diagnostics, tests).
  size_t bufferCapacity() const noexcept { return buf_.capacity(); }
  uint64_t bufferReallocations() const noexcept { return buf_.reallocations(); }
  // A message for each thing worth a warning since the last call (truncation), else empty.
  std::string takeWarning();
  // Rotation::kReplace: how many files were created at the live path so far (TailHub::
  // createdCount(): every creation before the call counted; nullopt: unknown). The tail reads
  // it around each opening of the live path, so it knows which creation each file it holds
  // came from, and reports a discontinuity when it goes on from a file to a file created more
  // than one creation after it (a file in between was replaced before it was opened). Set but
  // unknown (no inotify): every going on to a replacement is a discontinuity (a possible loss,
  // never silence). Unset: no such check.
  using CreationCounter = std::function<std::optional<uint64_t>()>;
  void setCreationCounter(CreationCounter counter) { creations_ = std::move(counter); }
  // Tests: `hook` runs right after each listing of the files (before any of them is opened),
  // so that a test can move names in that window.
  void setAfterListingForTest(std::function<void()> hook) { afterListing_ = std::move(hook); }
  // Whether, since the last call, the tail went on from a file that was gone to the oldest
  // remaining one without having held the files in between: lines may have been lost (the
  // engine deleted files this follow had not reached; possibly none, when the gone file's
  // successor is still the oldest one). Reported with the lines that follow it.
  bool takeDiscontinuity() noexcept {
    bool d = discontinuity_;
    discontinuity_ = false;
    return d;
  }

 private:
  static constexpr size_t kMaxReadSize = 256 * 1024;  // the largest read
  static constexpr size_t kMinReadSize = 16 * 1024;   // the read after a catch-up
  class Source;
  Status open(const LogFileEntry& entry, uint64_t offset);
  // `attempt`: how many times the names moved under it already (it lists them again, a few
  // times, then waits for the next read).
  Status openNext(int attempt = 0);
  bool liveReplaced() const;
  // Opens (and keeps open) every file newer than the newest one held, so that the engine
  // deleting them (max-file) while this follow is behind cannot lose them.
  void holdNewer();
  // Which creation at the live path a file came from (kReplace): between `lo` and `hi`, the
  // counts read just before and just after it was opened. `counted`: a counter was asked (set,
  // kReplace, the live path); `known`: it answered both times.
  struct Creation {
    bool counted = false;
    bool known = false;
    uint64_t lo = 0, hi = 0;
  };
  // Opens `e`, and for the live path under kReplace notes which creation it came from.
  Result<std::unique_ptr<Source>> openSource(const LogFileEntry& e, Creation* creation);
  // Whether going on from a file of creation `from` to one of creation `to` may skip a file.
  // A counter that could not answer (the hub has no inotify) proves nothing: a possible skip.
  static bool skipsAFile(const Creation& from, const Creation& to) noexcept {
    if (!from.counted || !to.counted) return false;
    if (!from.known || !to.known) return true;
    return to.hi > from.lo + 1;
  }
  struct Held {
    std::unique_ptr<Source> src;
    FileIdentity ident;
    bool gapBefore = false;  // the file before it was deleted before this one was held
    Creation creation;
  };

  std::string livePath_;
  size_t maxLineBytes_;
  Rotation rotation_;
  std::unique_ptr<Source> src_;
  std::deque<Held> held_;     // newer files, oldest first, opened before they are read
  std::deque<FileIdentity> done_;  // the last files read to their end (never read again)
  bool srcLive_ = false;      // src_ is the live path's file (as far as we know)
  FileIdentity ident_;        // of src_
  uint64_t offset_ = 0;       // consumed (handed out) bytes of src_
  ReadBuffer buf_;            // bytes read from src_ after offset_
  size_t readSize_ = kMinReadSize;  // the next read's size
  bool waitingForLive_ = false;  // no file at all yet: start at the oldest that appears
  bool awaitingNext_ = false;    // src_ read to its end; the file after it (ident_) not there yet
  uint64_t rotations_ = 0;
  uint64_t truncations_ = 0;
  bool discontinuity_ = false;
  std::chrono::steady_clock::time_point holeSince_{};  // a hole in the numbering seen since
  std::string warning_;
  std::function<void()> afterListing_;
  CreationCounter creations_;
  Creation srcCreation_;  // of src_ (kept while awaiting the next file)
  std::optional<int64_t> startBirthNs_;
};

}  // namespace zc::logfile
