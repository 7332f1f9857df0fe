// DeploymentStore: the deployment rows of the RocksDB plugin, in the `deployments` column family
// (key: the id; value: encoding.h's versioned row).
//
// Each method checks the id, enter()s the Database and answers as Storage's deployment methods
// do. Removing a deployment touches every data class, so RocksDbStorage does it with
// addRemoval(). Thread-safety: every method may be called concurrently.
#pragma once

#include <rocksdb/write_batch.h>

#include <string_view>
#include <vector>

#include "rocksdb_db.h"
#include "zc/model.h"

namespace zc::storage {

class DeploymentStore {
 public:
  // OWNERSHIP: `db` outlives this object.
  explicit DeploymentStore(Database& db) : db_(db) {}

  Status put(const Deployment& d);
  // NotFound when unknown; Corruption (naming the id) for a malformed row.
  Result<Deployment> get(std::string_view id);
  Result<std::vector<Deployment>> list();

  // Adds to `batch` the deletion of `id`'s row and of every key of `id` in the other column
  // families. Caller has entered the Database.
  void addRemoval(std::string_view id, rocksdb::WriteBatch* batch) const;

 private:
  Database& db_;
};

}  // namespace zc::storage
