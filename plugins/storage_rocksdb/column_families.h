// The column families of the RocksDB plugin: one per data class (README.md "Layout").
//
// Cf is the index of a family in Database's handles and in kCfNames, the names on disk. The
// order is part of nothing persistent: RocksDB finds families by name.
#pragma once

#include <array>
#include <cstddef>

namespace zc::storage {

enum Cf : size_t { kDeployments = 0, kLogs, kSystem, kMetrics, kMeta, kDefault, kCfCount };

// The CF names on disk, in Cf order ("default" is required by RocksDB and stays empty).
inline constexpr std::array<const char*, kCfCount> kCfNames = {"deployments", "logs", "system",
                                                               "metrics",     "meta", "default"};

}  // namespace zc::storage
