#include "rocksdb_storage.h"

#include <exception>
#include <string>

#include "encoding.h"
#include "zc/plugin/guard.h"

namespace zc::storage {

namespace {

constexpr std::string_view kWho = "rocksdb storage";

}  // namespace

RocksDbStorage::RocksDbStorage() {
  db_.setOnClose([this] { logs_.forgetCache(); });
}

RocksDbStorage::~RocksDbStorage() {
  // Here, not in ~Database: closing runs the close hook, which needs logs_ alive.
  (void)close();
}

std::vector<plugin::OptionSpec> RocksDbStorage::optionSpecs() const noexcept {
  return rocksDbOptionSpecs();
}

Status RocksDbStorage::configure(const plugin::PluginContext& ctx) noexcept {
  return plugin::guarded(kWho, "configure", [&]() -> Status {
    ctx_.logger = ctx.logger;
    ctx_.clock = ctx.clock;
    ZC_ASSIGN_OR_RETURN(opts_, parseRocksDbOptions(ctx.options));
    return Status::ok();
  });
}

Status RocksDbStorage::open() noexcept {
  return plugin::guarded(kWho, "open", [&] { return db_.open(opts_); });
}

Status RocksDbStorage::close() noexcept {
  return plugin::guarded(kWho, "close", [&] { return db_.close(); });
}

void RocksDbStorage::setRetentionPolicy(const plugin::RetentionPolicy& policy) noexcept {
  ctx_.ttls.set(policy);
}

Status RocksDbStorage::putDeployment(const Deployment& d) noexcept {
  return plugin::guarded(kWho, "putDeployment", [&] { return deployments_.put(d); });
}

Result<Deployment> RocksDbStorage::getDeployment(std::string_view id) noexcept {
  return plugin::guarded(kWho, "getDeployment", [&] { return deployments_.get(id); });
}

Result<std::vector<Deployment>> RocksDbStorage::listDeployments() noexcept {
  return plugin::guarded(kWho, "listDeployments", [&] { return deployments_.list(); });
}

Status RocksDbStorage::deleteDeployment(std::string_view id) noexcept {
  return plugin::guarded(kWho, "deleteDeployment", [&] { return removeDeployment(id); });
}

Status RocksDbStorage::removeDeployment(std::string_view id) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, true));
  rocksdb::WriteBatch batch;
  deployments_.addRemoval(id, &batch);
  ZC_RETURN_IF_ERROR(logs_.writeRemoval(id, &batch));
  const std::string begin = encoding::prefixBegin(id);
  const std::string end = encoding::prefixEnd(id);
  for (Cf cf : {kLogs, kSystem, kMetrics}) retention_.compactLater(cf, begin, end);
  return Status::ok();
}

Status RocksDbStorage::appendLogs(const plugin::LogBatch& batch) noexcept {
  return plugin::guarded(kWho, "appendLogs", [&] { return logs_.append(batch); });
}

Result<uint64_t> RocksDbStorage::nextLineNo(std::string_view deploymentId) noexcept {
  return plugin::guarded(kWho, "nextLineNo", [&] { return logs_.nextLineNo(deploymentId); });
}

Result<std::string> RocksDbStorage::getCursor(std::string_view deploymentId,
                                              std::string_view key) noexcept {
  return plugin::guarded(kWho, "getCursor", [&] { return logs_.cursor(deploymentId, key); });
}

Result<plugin::LogPage> RocksDbStorage::readLogs(std::string_view deploymentId, uint64_t since,
                                                 plugin::LogReadLimit limit) noexcept {
  return plugin::guarded(kWho, "readLogs",
                         [&] { return logs_.read(deploymentId, since, limit); });
}

Status RocksDbStorage::appendMetrics(const std::vector<MetricSample>& samples) noexcept {
  return plugin::guarded(kWho, "appendMetrics", [&] { return metrics_.append(samples); });
}

Result<std::vector<MetricSample>> RocksDbStorage::readMetrics(std::string_view deploymentId,
                                                              TimeNs from, TimeNs to) noexcept {
  return plugin::guarded(kWho, "readMetrics",
                         [&] { return metrics_.read(deploymentId, from, to); });
}

Result<plugin::RetentionReport> RocksDbStorage::applyRetention() noexcept {
  return plugin::guarded(kWho, "applyRetention", [&] { return retention_.apply(); });
}

Result<uint64_t> RocksDbStorage::usedBytes() noexcept {
  return plugin::guarded(kWho, "usedBytes", [&] { return db_.usedBytes(); });
}

Status RocksDbStorage::dropLogLinesThrough(std::string_view deploymentId,
                                           uint64_t throughLineNo) noexcept {
  return plugin::guarded(kWho, "dropLogLinesThrough",
                         [&] { return retention_.dropLogLinesThrough(deploymentId, throughLineNo); });
}

plugin::StorageStats RocksDbStorage::stats() noexcept {
  try {
    return db_.stats();
  } catch (const std::exception& e) {
    plugin::StorageStats out;
    out.healthy = false;
    out.detail = std::string("stats failed: ") + e.what();
    return out;
  }
}

}  // namespace zc::storage
