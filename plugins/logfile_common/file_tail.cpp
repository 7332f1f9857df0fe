#include "file_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>

namespace zc::logfile {
namespace {

// The most newer files held open at once (holdNewer()).
constexpr size_t kMaxHeld = 32;
// How long a hole in the numbering of the rotated files may stay before it is passed (and
// reported as a discontinuity): the engine's own holes last microseconds.
constexpr auto kHoleWait = std::chrono::seconds(2);

std::string errnoText(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

// A plain file (a descriptor) or a gzip one (zlib), read sequentially.
class FileTail::Source {
 public:
  static Result<std::unique_ptr<Source>> open(const LogFileEntry& e) {
    auto s = std::unique_ptr<Source>(new Source());
    s->path_ = e.path;
    s->fd_ = ::open(e.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (s->fd_ < 0) {
      if (errno == ENOENT) return Status::notFound(errnoText("open", e.path));
      return Status::unavailable(errnoText("open", e.path));
    }
    struct stat st {};
    if (::fstat(s->fd_, &st) != 0) return Status::unavailable(errnoText("stat", e.path));
    s->dev_ = st.st_dev;
    s->ino_ = st.st_ino;
    if (e.gz) {
      int dup = ::dup(s->fd_);
      if (dup < 0) return Status::unavailable(errnoText("dup", e.path));
      s->gz_ = gzdopen(dup, "rb");
      if (s->gz_ == nullptr) {
        ::close(dup);
        return Status::unavailable("gzopen " + e.path + ": failed");
      }
      gzbuffer(s->gz_, 128 * 1024);
    }
    return s;
  }
  ~Source() {
    if (gz_ != nullptr) gzclose(gz_);
    if (fd_ >= 0) ::close(fd_);
  }
  // Bytes read (0 = end for now), or an error.
  Result<size_t> read(char* p, size_t n) {
    if (gz_ != nullptr) {
      int r = gzread(gz_, p, static_cast<unsigned>(std::min<size_t>(n, 1 << 30)));
      if (r < 0) {
        int code = 0;
        const char* msg = gzerror(gz_, &code);
        return Status::corruption("gunzip " + path_ + ": " + (msg ? msg : "error"));
      }
      return static_cast<size_t>(r);
    }
    while (true) {
      ssize_t r = ::read(fd_, p, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return Status::unavailable(errnoText("read", path_));
    }
  }
  // Skips `n` bytes of content.
  Status skip(uint64_t n) {
    if (gz_ == nullptr) {
      if (::lseek(fd_, static_cast<off_t>(n), SEEK_SET) < 0) {
        return Status::unavailable(errnoText("seek", path_));
      }
      return Status::ok();
    }
    std::string scratch(64 * 1024, '\0');
    while (n > 0) {
      ZC_ASSIGN_OR_RETURN(size_t r, read(scratch.data(), std::min<uint64_t>(n, scratch.size())));
      if (r == 0) return Status::notFound("position past the end of " + path_);
      n -= r;
    }
    return Status::ok();
  }
  // The size of a plain file (not meaningful for gzip).
  uint64_t size() const {
    struct stat st {};
    return ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }
  // Up to kHeadBytes from the start of a plain file.
  std::string readHead() const {
    std::string head(kHeadBytes, '\0');
    ssize_t r = ::pread(fd_, head.data(), head.size(), 0);
    head.resize(r > 0 ? static_cast<size_t>(r) : 0);
    return head;
  }
  bool gz() const { return gz_ != nullptr; }
  // The file's birth time (ns since the epoch), when the file system keeps it.
  std::optional<int64_t> birthNs() const {
    struct statx st {};
    if (::statx(fd_, "", AT_EMPTY_PATH, STATX_BTIME, &st) != 0) return std::nullopt;
    if ((st.stx_mask & STATX_BTIME) == 0) return std::nullopt;
    return static_cast<int64_t>(st.stx_btime.tv_sec) * 1'000'000'000 + st.stx_btime.tv_nsec;
  }
  uint64_t dev() const { return dev_; }
  uint64_t ino() const { return ino_; }

 private:
  Source() = default;
  std::string path_;
  int fd_ = -1;
  gzFile gz_ = nullptr;
  uint64_t dev_ = 0, ino_ = 0;
};

FileTail::FileTail(std::string livePath, size_t maxLineBytes, Rotation rotation)
    : livePath_(std::move(livePath)),
      maxLineBytes_(std::max<size_t>(maxLineBytes, 1024)),
      rotation_(rotation) {}

FileTail::~FileTail() = default;

FilePosition FileTail::position() const { return {ident_, offset_}; }

std::string FileTail::takeWarning() {
  std::string w = std::move(warning_);
  warning_.clear();
  return w;
}

Result<std::unique_ptr<FileTail::Source>> FileTail::openSource(const LogFileEntry& e,
                                                                Creation* creation) {
  *creation = {};
  const bool counted = rotation_ == Rotation::kReplace && creations_ && e.index == 0 && !e.gz;
  std::optional<uint64_t> before = counted ? creations_() : std::nullopt;
  auto s = Source::open(e);
  if (!s.isOk() || !counted) return s;
  creation->counted = true;
  if (!before) return s;
  // A file renamed over the path between the two counts is one of the creations in between.
  std::optional<uint64_t> after = creations_();
  if (after) *creation = Creation{true, true, *before, *after};
  return s;
}

Status FileTail::open(const LogFileEntry& entry, uint64_t offset) {
  Creation creation;
  ZC_ASSIGN_OR_RETURN(std::unique_ptr<Source> s, openSource(entry, &creation));
  if (offset > 0) ZC_RETURN_IF_ERROR(s->skip(offset));
  srcCreation_ = creation;  // only once the file is the one read: a failed skip keeps the old
  held_.clear();
  ident_ = FileIdentity{s->dev(), s->ino(), 0, 0};
  src_ = std::move(s);
  srcLive_ = entry.index == 0;
  offset_ = offset;
  buf_.clear();
  waitingForLive_ = false;
  awaitingNext_ = false;
  return Status::ok();
}

Result<bool> FileTail::seek(const FilePosition& pos) {
  // A rotation between listing and opening moves names: the file opened is checked to be the
  // position's, and the files are listed again when it is not (a few times; rotations are far
  // apart next to this).
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<LogFileEntry> files = listLogFiles(livePath_);
    bool moved = false;
    // Newest first: a follow that keeps up is nearly always in the live file.
    for (auto it = files.rbegin(); it != files.rend() && !moved; ++it) {
      const LogFileEntry& e = *it;
      if (!e.gz) {
        struct stat st {};
        if (::stat(e.path.c_str(), &st) != 0) continue;
        if (st.st_dev != pos.file.dev || st.st_ino != pos.file.ino) continue;
        if (static_cast<uint64_t>(st.st_size) < pos.offset) continue;  // truncated since
      } else if (pos.file.headLen == 0) {
        continue;  // nothing to recognise a compressed file by
      }
      if (pos.file.headLen > 0) {
        auto head = fileHead(e);
        if (!head.isOk() || !headMatches(head.value(), pos.file)) continue;
      }
      Status st = open(e, pos.offset);
      if (st.isNotFound()) continue;  // gone meanwhile, or shorter than the offset
      ZC_RETURN_IF_ERROR(st);
      if (!e.gz && (ident_.dev != pos.file.dev || ident_.ino != pos.file.ino)) {
        src_.reset();  // renamed between the stat and the open
        moved = true;
        continue;
      }
      ident_.headLen = pos.file.headLen;
      ident_.headHash = pos.file.headHash;
      return true;
    }
    if (!moved) return false;
  }
  return false;
}

Status FileTail::seekOldest() {
  std::vector<LogFileEntry> files = listLogFiles(livePath_);
  src_.reset();
  buf_.clear();
  offset_ = 0;
  ident_ = {};
  for (const LogFileEntry& e : files) {
    Status st = open(e, 0);
    if (st.isOk()) {
      if (!startBirthNs_) startBirthNs_ = src_->birthNs();
      return st;
    }
    if (!st.isNotFound()) return st;
  }
  waitingForLive_ = true;
  return Status::ok();
}

void FileTail::holdNewer() {
  if (!src_ || held_.size() >= kMaxHeld) return;
  const FileIdentity& newest = held_.empty() ? ident_ : held_.back().ident;
  struct stat live {};
  if (::stat(livePath_.c_str(), &live) == 0 && live.st_dev == newest.dev &&
      live.st_ino == newest.ino) {
    return;  // the newest file held is the live one: nothing newer
  }
  std::vector<LogFileEntry> files = listLogFiles(livePath_);
  if (afterListing_) afterListing_();
  // Where the newest file held is now: a plain file by its inode, a compressed one by its first
  // line. Not there at all: the engine deleted it (the oldest go first), so every file listed
  // is newer.
  size_t from = 0;
  bool found = false;
  for (size_t i = 0; i < files.size() && !found; ++i) {
    found = sameFile(files[i], newest);
    if (found) from = i + 1;
  }
  // Without its first line a file compressed since cannot be told from an older one: wait.
  if (!found && newest.headLen == 0) return;
  // A listing taken in the middle of a rotation: the next call looks again.
  if (!files.empty() && !numberedWithoutHole(files, found ? from - 1 : 0, files.size() - 1)) {
    return;
  }
  // Deleted before anything after it was held: what was between it and the oldest file listed
  // may be gone (or nothing, when its successor is still the oldest; there is no telling).
  // A replaced file is always gone from the listing: that alone says nothing of a loss.
  bool gapBefore = !found && rotation_ == Rotation::kRename;
  std::vector<Held> opened;
  for (size_t i = from; i < files.size() && held_.size() + opened.size() < kMaxHeld; ++i) {
    Held h;
    auto src = openSource(files[i], &h.creation);
    if (!src.isOk()) return;  // rotated on meanwhile: the next call looks again
    h.ident = FileIdentity{src.value()->dev(), src.value()->ino(), 0, 0};
    if (!files[i].gz) {
      std::string headBytes = src.value()->readHead();
      std::string_view head = headOf(headBytes);
      h.ident.headLen = static_cast<uint32_t>(head.size());
      h.ident.headHash = head.empty() ? 0 : fnv1a64(head);
    }
    h.src = std::move(src).value();
    h.gapBefore = gapBefore;
    gapBefore = false;
    opened.push_back(std::move(h));
  }
  // The names were listed, then opened one by one: a rotation in between shifts every name, and
  // ".1" opened after it is the file after the one listed there, which would be skipped. Keep
  // what was opened only when every name still names the same file now (and the newest held
  // one is still just before them); otherwise the next call looks again.
  if (found && !files[from - 1].gz && !namesFile(files[from - 1], newest.dev, newest.ino)) return;
  for (size_t k = 0; k < opened.size(); ++k) {
    const LogFileEntry& e = files[from + k];
    if (!e.gz && !namesFile(e, opened[k].ident.dev, opened[k].ident.ino)) return;
  }
  for (Held& h : opened) held_.push_back(std::move(h));
}

Status FileTail::openNext(int attempt) {
  const Creation justReadCreation = srcCreation_;
  if (src_) {
    done_.push_back(ident_);
    if (done_.size() > 8) done_.pop_front();
  }
  if (!held_.empty()) {
    // Opened when it was noticed, so that the engine deleting it meanwhile loses nothing.
    Held h = std::move(held_.front());
    held_.pop_front();
    if (h.gapBefore || skipsAFile(justReadCreation, h.creation)) discontinuity_ = true;
    srcCreation_ = h.creation;
    src_ = std::move(h.src);
    ident_ = h.ident;
    ident_.headLen = 0;  // recomputed from its first line when read
    offset_ = 0;
    buf_.clear();
    struct stat live {};
    srcLive_ = ::stat(livePath_.c_str(), &live) == 0 && live.st_dev == ident_.dev &&
               live.st_ino == ident_.ino;
    return Status::ok();
  }
  std::vector<LogFileEntry> files = listLogFiles(livePath_);
  if (afterListing_) afterListing_();
  // Find the file just read among the current ones; the next newer one follows it.
  size_t next = 0;  // when it is gone, every remaining file is newer: the oldest is next
  FileIdentity anchor = ident_;  // the file found just before `next`
  for (size_t i = 0; i < files.size(); ++i) {
    const LogFileEntry& e = files[i];
    if (sameFile(e, ident_)) {
      next = i + 1;
      anchor = ident_;
      break;
    }
    // Not it; but a file already read to its end (same inode and first line) is never next.
    if (!e.gz) {
      struct stat st {};
      for (const FileIdentity& d : done_) {
        if (d.headLen > 0 && ::stat(e.path.c_str(), &st) == 0 && st.st_dev == d.dev &&
            st.st_ino == d.ino) {
          auto head = fileHead(e);
          if (head.isOk() && headMatches(head.value(), d)) {
            next = i + 1;
            anchor = d;
          }
        }
      }
    }
  }
  // The file just read is gone and nothing after it was held: files between it and the
  // oldest remaining one may have been deleted unread. This holds as well when it was read to
  // its end earlier and this call comes after a wait for its successor (awaitingNext_: src_
  // already closed): the engine may have rotated past it more than max-file times meanwhile.
  const bool readOne = ident_.ino != 0 || ident_.headLen > 0;
  const bool lost =
      next == 0 && readOne && !files.empty() && rotation_ == Rotation::kRename;
  const FileIdentity justRead = ident_;
  const size_t foundAt = next;  // 0: the file just read was not found
  src_.reset();
  if (next < files.size()) {
    // Only a listing without a hole from the file just read to the next one proves that the
    // next one listed is its successor (see numberedWithoutHole()); a hole that stays (not the
    // engine's: a file removed by hand) is passed after kHoleWait, as a discontinuity.
    bool moved = false;
    bool hole = !numberedWithoutHole(files, foundAt > 0 ? foundAt - 1 : 0, next);
    if (hole) {
      auto now = std::chrono::steady_clock::now();
      if (holeSince_ == std::chrono::steady_clock::time_point{}) holeSince_ = now;
      moved = now - holeSince_ < kHoleWait;
    } else {
      holeSince_ = {};  // only a hole seen at every look since counts as one that stays
    }
    Status st = moved ? Status::ok() : open(files[next], 0);
    if (!moved && st.isNotFound()) moved = true;  // renamed or deleted since the listing
    if (!moved && !st.isOk()) return st;
    if (!moved) {
      // Listed, then opened: a rotation in between shifts every name (see holdNewer()). The
      // name opened must still be this file and the one before it the file found before it.
      moved = !files[next].gz && !namesFile(files[next], ident_.dev, ident_.ino);
      if (foundAt > 0 && !files[foundAt - 1].gz) {
        moved = moved || !namesFile(files[foundAt - 1], anchor.dev, anchor.ino);
      }
    }
    if (!moved) {
      if (lost || hole || skipsAFile(justReadCreation, srcCreation_)) discontinuity_ = true;
      holeSince_ = {};
      return st;
    }
    src_.reset();
    ident_ = justRead;
    srcCreation_ = justReadCreation;
    srcLive_ = false;
    buf_.clear();
    if (attempt < 4) return openNext(attempt + 1);
    awaitingNext_ = true;
    return Status::ok();
  }
  // No newer file yet (the engine renamed the live file and has not created the next one):
  // keep the identity of the file just read and look for the one after it again next time.
  // This listing has no hole after the file just read: a hole seen before is not one that stays.
  holeSince_ = {};
  buf_.clear();
  awaitingNext_ = true;
  return Status::ok();
}

bool FileTail::liveReplaced() const {
  struct stat st {};
  if (::stat(livePath_.c_str(), &st) != 0) return true;
  return st.st_dev != ident_.dev || st.st_ino != ident_.ino;
}

Result<FileTail::ReadOutcome> FileTail::read(const OnLine& onLine, size_t maxBytes, bool verify) {
  size_t handed = 0;
  bool drainedAfterRotation = false;
  if (verify && src_ && srcLive_ && ident_.headLen > 0 && !headMatches(src_->readHead(), ident_)) {
    // Rewritten in place since the last read: what follows the old offset is not a continuation.
    ++truncations_;
    warning_ = "log file " + livePath_ + " was rewritten (its first line changed); reading it again from its start";
    ZC_RETURN_IF_ERROR(open(LogFileEntry{livePath_, 0, false}, 0));
  }
  while (true) {
    if (awaitingNext_) {
      awaitingNext_ = false;
      ZC_RETURN_IF_ERROR(openNext());
      if (awaitingNext_) return ReadOutcome::kIdle;
      continue;
    }
    if (waitingForLive_ || !src_) {
      std::vector<LogFileEntry> files = listLogFiles(livePath_);
      if (files.empty()) return ReadOutcome::kIdle;
      // The set came back (or first appeared): start at its oldest file.
      ZC_RETURN_IF_ERROR(seekOldest());
      if (waitingForLive_) return ReadOutcome::kIdle;
    }
    // Hand out the complete lines buffered.
    while (!buf_.empty()) {
      const char* base = buf_.data();  // stays valid until the next room()
      size_t avail = buf_.size();
      const void* nl = std::memchr(base, '\n', std::min(avail, maxLineBytes_));
      size_t len;
      size_t consumed;
      if (nl != nullptr) {
        len = static_cast<size_t>(static_cast<const char*>(nl) - base);
        consumed = len + 1;
      } else if (avail >= maxLineBytes_) {
        len = consumed = maxLineBytes_;  // no '\n' in sight: hand the bytes out in pieces
      } else {
        break;
      }
      if (offset_ == 0 && ident_.headLen == 0) {
        std::string_view head = headOf(std::string_view(base, avail));
        if (!head.empty()) {
          ident_.headLen = static_cast<uint32_t>(head.size());
          ident_.headHash = fnv1a64(head);
        }
      }
      FilePosition start{ident_, offset_};
      FilePosition after{ident_, offset_ + consumed};
      offset_ += consumed;
      buf_.consume(consumed);
      handed += consumed;
      bool more = onLine(std::string_view(base, len), start, after);
      if (!more || handed >= maxBytes) return ReadOutcome::kMore;
    }
    // Read more: kMinReadSize after a catch-up, twice as much after each read that filled its
    // room, up to kMaxReadSize, so that a trickle costs small reads and a backlog large ones.
    holdNewer();
    auto r = src_->read(buf_.room(readSize_), readSize_);
    if (!r.isOk()) return r.status();
    buf_.commit(r.value());
    if (r.value() > 0) {
      if (r.value() == readSize_) readSize_ = std::min(readSize_ * 2, kMaxReadSize);
      continue;
    }

    // The end of this file for now.
    if (!srcLive_) {
      if (!buf_.empty()) {
        // A rotated file is complete: its last bytes without '\n' are its last line.
        std::string last(buf_.view());
        buf_.clear();
        FilePosition start{ident_, offset_};
        offset_ += last.size();
        handed += last.size();
        onLine(last, start, FilePosition{ident_, offset_});
      }
      ZC_RETURN_IF_ERROR(openNext());
      if (handed >= maxBytes) return ReadOutcome::kMore;
      continue;
    }
    if (liveReplaced() && !drainedAfterRotation) {
      // Rotated (renamed away): what was written before the rename is read through the
      // descriptor, then the next file.
      ++rotations_;
      srcLive_ = false;
      drainedAfterRotation = true;
      continue;
    }
    if (src_->size() < offset_ + buf_.size()) {
      ++truncations_;
      warning_ = "log file " + livePath_ + " was truncated at offset " + std::to_string(offset_) +
                 "; reading it again from its start";
      ZC_RETURN_IF_ERROR(open(LogFileEntry{livePath_, 0, false}, 0));
      continue;
    }
    // Caught up: room grown for a backlog is given back (kept, 200 follows would hold up to
    // 50 MiB for good), keeping a pending partial line and room for the next read, so that
    // neither a trickle of lines nor a long partial line waiting for its end costs an
    // allocation or a copy at each wake.
    if (buf_.capacity() - buf_.size() > kMaxReadSize / 4) buf_.shrinkToFit(kMinReadSize);
    readSize_ = kMinReadSize;
    return ReadOutcome::kIdle;
  }
}

}  // namespace zc::logfile
