#include "deployment_store.h"

#include <memory>
#include <string>

#include "encoding.h"

namespace zc::storage {

namespace enc = encoding;

Status DeploymentStore::put(const Deployment& d) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(d.id));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, true));
  rocksdb::WriteBatch batch;
  batch.Put(db_.cf(kDeployments), d.id, enc::encodeDeployment(d));
  return db_.write(&batch);
}

Result<Deployment> DeploymentStore::get(std::string_view id) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, false));
  std::string value;
  rocksdb::Status s =
      db_.db()->Get(rocksdb::ReadOptions(), db_.cf(kDeployments), rocksdb::Slice(id), &value);
  if (s.IsNotFound()) return Status::notFound("deployment '" + std::string(id) + "' is unknown");
  ZC_RETURN_IF_ERROR(fromRocks(s, "rocksdb storage: get deployment"));
  auto d = enc::decodeDeployment(value);
  if (!d.isOk()) return d.status().withContext("deployment '" + std::string(id) + "'");
  return d;
}

Result<std::vector<Deployment>> DeploymentStore::list() {
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, false));
  std::vector<Deployment> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_.db()->NewIterator(rocksdb::ReadOptions(), db_.cf(kDeployments)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto d = enc::decodeDeployment(it->value().ToStringView());
    if (!d.isOk()) {
      return d.status().withContext("deployment '" + it->key().ToString() + "'");
    }
    out.push_back(std::move(d).value());
  }
  ZC_RETURN_IF_ERROR(fromRocks(it->status(), "rocksdb storage: list deployments"));
  return out;
}

void DeploymentStore::addRemoval(std::string_view id, rocksdb::WriteBatch* batch) const {
  const std::string begin = enc::prefixBegin(id);
  const std::string end = enc::prefixEnd(id);
  batch->Delete(db_.cf(kDeployments), rocksdb::Slice(id));
  for (Cf cf : {kLogs, kSystem, kMetrics, kMeta}) batch->DeleteRange(db_.cf(cf), begin, end);
}

}  // namespace zc::storage
