#include "encoding.h"

#include <bit>
#include <optional>

namespace zc::storage::encoding {

namespace {

constexpr uint8_t kDeploymentFormatV1 = 1;

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void putString(std::string& out, std::string_view s) {
  putVarint(out, s.size());
  out.append(s);
}

void putFixed64(std::string& out, uint64_t v) {
  char buf[8];
  putLe64(buf, v);
  out.append(buf, 8);
}

// A presence byte, then the value as a sign-extended 64-bit integer (int and TimeNs fields).
template <typename T>
void putOptional(std::string& out, const std::optional<T>& v) {
  out.push_back(v ? 1 : 0);
  if (v) putFixed64(out, static_cast<uint64_t>(static_cast<int64_t>(*v)));
}

// Bounds-checked reader: every get returns false once the input is exhausted or malformed.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool atEnd() const { return in_.empty(); }

  bool getByte(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool getVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      uint8_t b;
      if (!getByte(&b)) return false;
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool getString(std::string* s) {
    uint64_t n;
    if (!getVarint(&n) || n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool getFixed64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = getLe64(in_.data());
    in_.remove_prefix(8);
    return true;
  }
  template <typename T>
  bool getOptional(std::optional<T>* v) {
    uint8_t present;
    if (!getByte(&present) || present > 1) return false;
    if (!present) {
      v->reset();
      return true;
    }
    uint64_t raw;
    if (!getFixed64(&raw)) return false;
    *v = static_cast<T>(static_cast<int64_t>(raw));
    return true;
  }

 private:
  std::string_view in_;
};

}  // namespace

std::string prefixBegin(std::string_view id) {
  std::string k(id);
  k.push_back('\0');
  return k;
}

std::string prefixEnd(std::string_view id) {
  std::string k(id);
  k.push_back('\1');
  return k;
}

std::string lineKey(std::string_view id, uint64_t lineNo) {
  std::string k;
  k.reserve(id.size() + kLineKeySuffix);
  k.append(id);
  k.push_back('\0');
  char buf[8];
  putBe64(buf, lineNo);
  k.append(buf, 8);
  return k;
}

std::string metricKey(std::string_view id, TimeNs t) {
  return lineKey(id, timeToOrdered(t));
}

std::string nextLineNoKey(std::string_view id) {
  std::string k(id);
  k.push_back('\0');
  k.push_back('n');
  return k;
}

std::string cursorKey(std::string_view id, std::string_view key) {
  std::string k;
  k.reserve(id.size() + 2 + key.size());
  k.append(id);
  k.push_back('\0');
  k.push_back('c');
  k.append(key);
  return k;
}

bool splitPrefixedKey(std::string_view key, std::string_view* id, std::string_view* rest) noexcept {
  size_t pos = key.find('\0');
  if (pos == std::string_view::npos) return false;
  *id = key.substr(0, pos);
  *rest = key.substr(pos + 1);
  return true;
}

bool decodeKeyNumber(std::string_view key, size_t idLen, uint64_t* out) noexcept {
  if (key.size() != idLen + kLineKeySuffix || key[idLen] != '\0') return false;
  *out = getBe64(key.data() + idLen + 1);
  return true;
}

bool decodeLineValue(std::string_view value, LogStream* stream, bool* truncated, TimeNs* ts,
                     std::string_view* text) noexcept {
  if (value.size() < kLineHeaderSize) return false;
  auto s = static_cast<uint8_t>(value[0]);
  auto flags = static_cast<uint8_t>(value[1]);
  if (s < static_cast<uint8_t>(LogStream::kStdout) || s > static_cast<uint8_t>(LogStream::kSystem))
    return false;
  if (flags > 1) return false;
  *stream = static_cast<LogStream>(s);
  *truncated = flags == 1;
  *ts = static_cast<TimeNs>(getLe64(value.data() + 2));
  *text = value.substr(kLineHeaderSize);
  return true;
}

void encodeMetricValue(const MetricSample& s, char* out) noexcept {
  putLe64(out, std::bit_cast<uint64_t>(s.cpuPct));
  putLe64(out + 8, std::bit_cast<uint64_t>(s.memUsedMb));
  putLe64(out + 16, std::bit_cast<uint64_t>(s.memLimitMb));
}

bool decodeMetricValue(std::string_view value, MetricSample* s) noexcept {
  if (value.size() != kMetricValueSize) return false;
  s->cpuPct = std::bit_cast<double>(getLe64(value.data()));
  s->memUsedMb = std::bit_cast<double>(getLe64(value.data() + 8));
  s->memLimitMb = std::bit_cast<double>(getLe64(value.data() + 16));
  return true;
}

std::string encodeDeployment(const Deployment& d) {
  std::string out;
  out.reserve(128 + d.id.size() + d.name.size() + d.publicKey.size() + d.errorMessage.size());
  out.push_back(static_cast<char>(kDeploymentFormatV1));
  putString(out, d.id);
  putString(out, d.name);
  putString(out, d.slug);
  putString(out, d.entityType);
  out.push_back(static_cast<char>(d.status));
  putString(out, d.publicUrl);
  putString(out, d.registryUrl);
  putString(out, d.entityId);
  putString(out, d.publicKey);
  putOptional(out, d.hostPort);
  putString(out, d.containerId);
  putFixed64(out, static_cast<uint64_t>(d.createdAt));
  putOptional(out, d.startedAt);
  putOptional(out, d.lastExitCode);
  putOptional(out, d.lastCrashAt);
  putString(out, d.errorMessage);
  // Format v1 kept a route id here; the route is now always the deployment id. The slot stays
  // (empty) so rows written by either version read back.
  putString(out, std::string_view());
  return out;
}

Result<Deployment> decodeDeployment(std::string_view bytes) {
  Reader r(bytes);
  uint8_t version;
  if (!r.getByte(&version)) return Status::corruption("deployment row is empty");
  if (version != kDeploymentFormatV1) {
    return Status::corruption("deployment row has unknown format version " +
                              std::to_string(version));
  }
  Deployment d;
  uint8_t status = 0;
  uint64_t createdAt = 0;
  std::string formerRouteId;  // ignored: see encodeDeployment
  bool ok = r.getString(&d.id) && r.getString(&d.name) && r.getString(&d.slug) &&
            r.getString(&d.entityType) && r.getByte(&status) && r.getString(&d.publicUrl) &&
            r.getString(&d.registryUrl) && r.getString(&d.entityId) && r.getString(&d.publicKey) &&
            r.getOptional(&d.hostPort) && r.getString(&d.containerId) &&
            r.getFixed64(&createdAt) && r.getOptional(&d.startedAt) &&
            r.getOptional(&d.lastExitCode) && r.getOptional(&d.lastCrashAt) &&
            r.getString(&d.errorMessage) && r.getString(&formerRouteId);
  if (!ok) return Status::corruption("deployment row is truncated or malformed");
  if (!r.atEnd()) return Status::corruption("deployment row has trailing bytes");
  if (status > static_cast<uint8_t>(DeploymentStatus::kStopped)) {
    return Status::corruption("deployment row has unknown status " + std::to_string(status));
  }
  d.status = static_cast<DeploymentStatus>(status);
  d.createdAt = static_cast<TimeNs>(createdAt);
  return d;
}

}  // namespace zc::storage::encoding
