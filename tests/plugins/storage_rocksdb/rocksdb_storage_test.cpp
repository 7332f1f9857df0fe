// What only the RocksDB plugin promises beyond the conformance suite: persistence across
// close/open, real space reclamation, option checking, decoding errors and log routing.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "storage_test_util.h"
#include "test_support.h"

namespace zc::testing {
namespace {

using plugin::LogBatch;
using plugin::LogCursor;
using plugin::Storage;

constexpr TimeNs kStart = 1'800'000'000 * kNanosPerSecond;
constexpr int64_t kHour = 3600 * kNanosPerSecond;

class RocksDbStorageTest : public ::testing::Test {
 protected:
  static const host::PluginRegistry& registry() {
    static const host::PluginRegistry* r = [] {
      auto* reg = new host::PluginRegistry();
      (void)reg->scanDirectory(ZC_PLUGIN_DIR);
      (void)reg->openAll();
      reg->freeze();
      return reg;
    }();
    return *r;
  }

  // Creates and opens the plugin on `options` (data_dir defaults to dataDir()).
  Result<host::PluginPtr<Storage>> open(std::map<std::string, std::string> options = {}) {
    if (!options.count("data_dir")) options["data_dir"] = dataDir();
    ZC_ASSIGN_OR_RETURN(
        auto store, createStorage(registry(), "rocksdb", std::move(options), &logger_, &clock_));
    ZC_RETURN_IF_ERROR(store->open());
    return store;
  }
  Status openStatus(std::map<std::string, std::string> options) {
    auto r = open(std::move(options));
    if (r.isOk()) {
      EXPECT_TRUE((*r)->close().isOk());
    }
    return r.status();
  }
  std::string dataDir() const { return dir_.path() + "/db"; }

  TempDir dir_;
  ManualClock clock_{kStart};
  RecordingLogger logger_;
};

TEST_F(RocksDbStorageTest, CloseAndReopenKeepsEverything) {
  Deployment d;
  d.id = "d";
  d.name = "persisted";
  d.hostPort = 8080;
  d.startedAt = kStart;
  {
    auto store = open();
    ASSERT_TRUE(store.isOk()) << store.status().toString();
    ASSERT_TRUE((*store)->putDeployment(d).isOk());
    LogBatch b = makeBatch("d", 1, 100, kStart);
    b.lines[50].stream = LogStream::kSystem;
    b.lines[60].stream = LogStream::kStderr;
    b.lines[70].truncated = true;
    b.cursor = LogCursor{"container", "cursor-100"};
    ASSERT_TRUE((*store)->appendLogs(b).isOk());
    ASSERT_TRUE((*store)->appendMetrics({{"d", kStart, 1.5, 2.5, 3.5}}).isOk());
    ASSERT_TRUE((*store)->close().isOk());
  }
  auto store = open();
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  EXPECT_EQ(*(*store)->getDeployment("d"), d);
  EXPECT_EQ(*(*store)->nextLineNo("d"), 101u);
  EXPECT_EQ(*(*store)->getCursor("d", "container"), "cursor-100");
  auto page = (*store)->readLogs("d", 0, 1000);
  ASSERT_TRUE(page.isOk());
  ASSERT_EQ(page->lines.size(), 100u);
  EXPECT_EQ(page->lines[50].stream, LogStream::kSystem);
  EXPECT_EQ(page->lines[60].stream, LogStream::kStderr);
  EXPECT_TRUE(page->lines[70].truncated);
  EXPECT_EQ(page->lines[99], makeLine("d", 100, kStart));
  EXPECT_EQ(*(*store)->readMetrics("d", kStart, kStart),
            (std::vector<MetricSample>{{"d", kStart, 1.5, 2.5, 3.5}}));
  // The stored next lineNo is enforced after a reopen too.
  EXPECT_EQ((*store)->appendLogs(makeBatch("d", 1, 1, kStart)).code(),
            Status::Code::kFailedPrecondition);
  EXPECT_TRUE((*store)->appendLogs(makeBatch("d", 101, 1, kStart)).isOk());
  EXPECT_TRUE((*store)->close().isOk());
}

// close() flushes: everything is in table files afterwards and the WAL holds nothing to replay.
TEST_F(RocksDbStorageTest, CloseFlushesEveryColumnFamily) {
  {
    auto store = open();
    ASSERT_TRUE(store.isOk()) << store.status().toString();
    for (uint64_t no = 1; no <= 20000; no += 1000) {
      ASSERT_TRUE((*store)->appendLogs(makeBatch("d", no, 1000, kStart)).isOk());
    }
    ASSERT_TRUE((*store)->appendMetrics({{"d", kStart, 1.5, 2.5, 3.5}}).isOk());
    ASSERT_TRUE((*store)->close().isOk());
  }
  uintmax_t walBytes = 0, tableBytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dataDir())) {
    if (e.path().extension() == ".log") walBytes += e.file_size();
    if (e.path().extension() == ".sst") tableBytes += e.file_size();
  }
  EXPECT_EQ(walBytes, 0u);
  EXPECT_GT(tableBytes, 0u);
  auto store = open();
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  EXPECT_EQ(*(*store)->nextLineNo("d"), 20001u);
  EXPECT_TRUE((*store)->close().isOk());
}

TEST_F(RocksDbStorageTest, RetentionReclaimsSpace) {
  auto store = open();
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  plugin::RetentionPolicy policy;
  policy.logsTtl = kHour;
  (*store)->setRetentionPolicy(policy);
  // ~24 MB of incompressible text in 2,000-line batches, on two deployments.
  std::mt19937_64 rng(1);
  constexpr uint64_t kLines = 60'000;
  for (const std::string id : {"a", "b"}) {
    for (uint64_t first = 1; first <= kLines; first += 2000) {
      LogBatch b = makeBatch(id, first, 2000, kStart);
      for (auto& l : b.lines) {
        l.text.resize(200);
        for (size_t i = 0; i < l.text.size(); i += 8) {
          uint64_t r = rng();
          std::memcpy(l.text.data() + i, &r, 8);
        }
      }
      ASSERT_TRUE((*store)->appendLogs(b).isOk());
    }
  }
  // One live line stays so that the store is not simply empty.
  ASSERT_TRUE((*store)->appendLogs(makeBatch("a", kLines + 1, 1, kStart + 2 * kHour)).isOk());
  uint64_t before = (*store)->stats().bytesOnDisk;
  EXPECT_GT(before, 20'000'000u);
  clock_.set(kStart + 90 * 60 * kNanosPerSecond);
  auto report = (*store)->applyRetention();
  ASSERT_TRUE(report.isOk()) << report.status().toString();
  EXPECT_EQ(report->logLinesDeleted, 2 * kLines);
  uint64_t after = (*store)->stats().bytesOnDisk;
  EXPECT_LT(after, before / 5) << "before " << before << " after " << after;
  auto page = (*store)->readLogs("a", 0, 10);
  ASSERT_TRUE(page.isOk());
  ASSERT_EQ(page->lines.size(), 1u);
  EXPECT_EQ(page->lines[0].lineNo, kLines + 1);
  EXPECT_EQ(page->oldestLineNo, kLines + 1);
  EXPECT_TRUE((*store)->stats().healthy);
  EXPECT_TRUE((*store)->close().isOk());
}

TEST_F(RocksDbStorageTest, DeletedDeploymentSpaceIsReclaimedByRetention) {
  auto store = open();
  ASSERT_TRUE(store.isOk());
  std::mt19937_64 rng(2);
  for (uint64_t first = 1; first <= 40'000; first += 2000) {
    LogBatch b = makeBatch("gone", first, 2000, kStart);
    for (auto& l : b.lines) {
      l.text.resize(256);
      for (auto& c : l.text) c = static_cast<char>(rng());
    }
    ASSERT_TRUE((*store)->appendLogs(b).isOk());
  }
  uint64_t before = (*store)->stats().bytesOnDisk;
  ASSERT_TRUE((*store)->deleteDeployment("gone").isOk());
  ASSERT_TRUE((*store)->applyRetention().isOk());
  uint64_t after = (*store)->stats().bytesOnDisk;
  EXPECT_LT(after, before / 5) << "before " << before << " after " << after;
  EXPECT_TRUE((*store)->close().isOk());
}

TEST_F(RocksDbStorageTest, OptionsAreChecked) {
  auto code = [&](std::map<std::string, std::string> o) { return openStatus(std::move(o)).code(); };
  EXPECT_EQ(code({{"data_dir", ""}}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"sync_writes", "maybe"}}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"block_cache_mb", "lots"}}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"write_buffer_mb", "0"}}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"compression", "brotli"}}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"sync_write", "true"}}), Status::Code::kInvalidArgument);  // typo
  EXPECT_EQ(code({{"max_open_files", "-1"}}), Status::Code::kInvalidArgument);  // unbounded
  // A data_dir that cannot be created: below a regular file.
  std::ofstream(dir_.path() + "/file") << "x";
  Status below = openStatus({{"data_dir", dir_.path() + "/file/db"}});
  EXPECT_EQ(below.code(), Status::Code::kIOError) << below.toString();
  EXPECT_NE(below.message().find("data_dir"), std::string::npos) << below.toString();
  EXPECT_EQ(openStatus({{"data_dir", dir_.path() + "/file"}}).code(), Status::Code::kIOError);
  // Every valid option, and a data_dir with missing parents.
  Status ok = openStatus({{"data_dir", dir_.path() + "/x/y/z"},
                          {"sync_writes", "true"},
                          {"block_cache_mb", "4"},
                          {"write_buffer_mb", "8"},
                          {"compression", "zstd"},
                          {"max_open_files", "64"}});
  EXPECT_TRUE(ok.isOk()) << ok.toString();
}

// RocksDB keeps every table file open unless told otherwise; the plugin bounds it (default 512),
// as RocksDB's own OPTIONS file in the data folder records.
TEST_F(RocksDbStorageTest, OpenTableFilesAreBounded) {
  // From the newest OPTIONS-<number> file (fixed-width numbers: the greatest name).
  auto maxOpenFilesIn = [](const std::string& dir) {
    std::string newest;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (name.rfind("OPTIONS-", 0) == 0 && name > newest) newest = name;
    }
    std::ifstream in(dir + "/" + newest);
    for (std::string line; std::getline(in, line);) {
      auto at = line.find("max_open_files=");
      if (at != std::string::npos) return line.substr(at + 15);
    }
    return std::string();
  };
  auto store = open({});
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  EXPECT_TRUE((*store)->close().isOk());
  EXPECT_EQ(maxOpenFilesIn(dataDir()), "512");
  store = open({{"max_open_files", "40"}});
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  EXPECT_TRUE((*store)->close().isOk());
  EXPECT_EQ(maxOpenFilesIn(dataDir()), "40");
}

// The memory budget at the defaults (README "Options"): 4 MiB memtables for logs and system, 8 MiB
// over all column families, and write buffers of 256 KiB per open file, as RocksDB's own OPTIONS
// file records. bench_ingest measures what they cost in peak RSS (bench/RESULTS.md).
TEST_F(RocksDbStorageTest, MemoryBudgetDefaults) {
  // `key` of section `section` in the newest OPTIONS-<number> file.
  auto optionIn = [](const std::string& dir, const std::string& section, const std::string& key) {
    std::string newest;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (name.rfind("OPTIONS-", 0) == 0 && name > newest) newest = name;
    }
    std::ifstream in(dir + "/" + newest);
    bool inSection = false;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] == '[') inSection = line == section;
      auto at = line.find(key + "=");
      if (inSection && at != std::string::npos && line.find_first_not_of(' ') == at) {
        return line.substr(at + key.size() + 1);
      }
    }
    return std::string();
  };
  auto store = open({});
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  EXPECT_TRUE((*store)->close().isOk());
  EXPECT_EQ(optionIn(dataDir(), "[CFOptions \"logs\"]", "write_buffer_size"), "2097152");
  EXPECT_EQ(optionIn(dataDir(), "[CFOptions \"logs\"]", "max_write_buffer_number"), "2");
  // A level-0 compaction waits for 16 MiB of flushed files.
  EXPECT_EQ(optionIn(dataDir(), "[CFOptions \"logs\"]", "level0_file_num_compaction_trigger"),
            "8");
  EXPECT_EQ(optionIn(dataDir(), "[DBOptions]", "db_write_buffer_size"), "4194304");
  EXPECT_EQ(optionIn(dataDir(), "[DBOptions]", "writable_file_max_buffer_size"), "262144");
  store = open({{"write_buffer_mb", "16"}});
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  EXPECT_TRUE((*store)->close().isOk());
  EXPECT_EQ(optionIn(dataDir(), "[CFOptions \"logs\"]", "write_buffer_size"), "16777216");
  EXPECT_EQ(optionIn(dataDir(), "[CFOptions \"logs\"]", "level0_file_num_compaction_trigger"),
            "4");
  EXPECT_EQ(optionIn(dataDir(), "[DBOptions]", "db_write_buffer_size"), "33554432");
}

TEST_F(RocksDbStorageTest, SyncWritesStoreAndReadBack) {
  auto store = open({{"sync_writes", "true"}});
  ASSERT_TRUE(store.isOk());
  ASSERT_TRUE((*store)->appendLogs(makeBatch("d", 1, 10, kStart)).isOk());
  EXPECT_EQ((*store)->readLogs("d", 0, 100)->lines.size(), 10u);
  EXPECT_TRUE((*store)->close().isOk());
}

TEST_F(RocksDbStorageTest, MalformedDeploymentRowIsCorruption) {
  {
    auto store = open();
    ASSERT_TRUE(store.isOk());
    Deployment d;
    d.id = "good";
    ASSERT_TRUE((*store)->putDeployment(d).isOk());
    ASSERT_TRUE((*store)->close().isOk());
  }
  {
    // Write garbage straight into the deployments column family.
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dataDir(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dataDir(), cfs, &handles, &db).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "deployments") {
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], "bad", "\x01\x05zz").ok());
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], "future", "\x09").ok());
      }
    }
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto store = open();
  ASSERT_TRUE(store.isOk());
  EXPECT_EQ((*store)->getDeployment("bad").status().code(), Status::Code::kCorruption);
  EXPECT_EQ((*store)->getDeployment("future").status().code(), Status::Code::kCorruption);
  EXPECT_EQ((*store)->listDeployments().status().code(), Status::Code::kCorruption);
  EXPECT_TRUE((*store)->getDeployment("good").isOk());
  EXPECT_TRUE((*store)->close().isOk());
}

// Rows written when a deployment row still carried a route id (the slot after errorMessage)
// read back; the route id is dropped (a stop always removes the route named by the id).
TEST_F(RocksDbStorageTest, RowWithAFormerRouteIdReadsBack) {
  Deployment d;
  d.id = "dep";
  d.name = "Bot";
  d.containerId = "c0ffee";
  {
    auto store = open();
    ASSERT_TRUE(store.isOk());
    ASSERT_TRUE((*store)->putDeployment(d).isOk());
    ASSERT_TRUE((*store)->close().isOk());
  }
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dataDir(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dataDir(), cfs, &handles, &db).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] != "deployments") continue;
      std::string row;
      ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), handles[i], "dep", &row).ok());
      ASSERT_EQ(row.back(), '\0');  // the empty route slot, last
      row.back() = '\x07';
      row += "route-x";
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], "dep", row).ok());
    }
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto store = open();
  ASSERT_TRUE(store.isOk());
  auto back = (*store)->getDeployment("dep");
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back.value(), d);
  EXPECT_TRUE((*store)->close().isOk());
}

// A failing disk, made hermetically: with RLIMIT_FSIZE below the WAL's size every WAL append
// fails (EFBIG), as it would with ENOSPC.
TEST_F(RocksDbStorageTest, FailedWriteMakesItUnhealthyUntilAWriteSucceeds) {
  auto store = open();
  ASSERT_TRUE(store.isOk());
  ASSERT_TRUE((*store)->appendLogs(makeBatch("d", 1, 100, kStart)).isOk());
  ASSERT_TRUE((*store)->stats().healthy);

  auto oldHandler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit tiny = old;
  tiny.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
  Status failed = (*store)->appendLogs(makeBatch("d", 101, 10, kStart));
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, oldHandler);
  EXPECT_EQ(failed.code(), Status::Code::kIOError) << failed.toString();
  auto sick = (*store)->stats();
  EXPECT_FALSE(sick.healthy);
  EXPECT_NE(sick.detail.find("write"), std::string::npos) << sick.detail;

  // The store recovers once writes can succeed again (the first attempt may still report the
  // background error while it resumes).
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    uint64_t next = (*store)->nextLineNo("d").valueOr(0);
    ASSERT_TRUE(next == 101 || next == 111) << next;  // the failed batch is all or nothing
    s = (*store)->appendLogs(makeBatch("d", next, 10, kStart));
    if (s.isOk()) break;
  }
  ASSERT_TRUE(s.isOk()) << s.toString();
  auto healthy = (*store)->stats();
  EXPECT_TRUE(healthy.healthy);
  EXPECT_TRUE(healthy.detail.empty());
  auto page = (*store)->readLogs("d", 0, 1000);
  ASSERT_TRUE(page.isOk());
  for (size_t i = 0; i < page->lines.size(); ++i) ASSERT_EQ(page->lines[i].lineNo, i + 1);
  EXPECT_EQ(page->nextLineNo, page->lines.size() + 1);
  EXPECT_TRUE((*store)->close().isOk());
}

TEST_F(RocksDbStorageTest, RocksDbInfoLogGoesToThePluginLogger) {
  auto store = open();
  ASSERT_TRUE(store.isOk());
  ASSERT_TRUE((*store)->close().isOk());
  size_t fromRocks = 0;
  for (const auto& m : logger_.messages()) fromRocks += m.rfind("rocksdb: ", 0) == 0;
  EXPECT_GT(fromRocks, 0u);
  // RocksDB writes no LOG file of its own.
  EXPECT_FALSE(std::filesystem::exists(dataDir() + "/LOG"));
}

}  // namespace
}  // namespace zc::testing
