// The loader's contract (zc/host/plugin_loader.h), proven with one tiny plugin per failure mode
// (tests/core/broken/): every refusal is an error with a one-line reason naming the problem,
// recorded by the registry without stopping the other plugins from loading.
#include "zc/host/plugin_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"
#include "zc/clock.h"
#include "zc/plugin/router.h"
#include "zc/plugin/storage.h"

namespace zc::testing {
namespace {

namespace fs = std::filesystem;

// zc_<c>.so as built by tests/core/broken/CMakeLists.txt.
std::string testPlugin(const std::string& c) {
  return std::string(ZC_TEST_PLUGIN_DIR) + "/" + c + "/zc_" + c + ".so";
}

struct Context {
  NullLogger logger;
  ManualClock clock{kNanosPerSecond};
  plugin::PluginContext ctx;
  Context() {
    ctx.logger = &logger;
    ctx.clock = &clock;
  }
};

struct BrokenCase {
  const char* testName;
  std::string plugin;  // folder and file name: <plugin>/zc_<plugin>.so
  std::string reason;  // a part of the refusal message that names the problem
};

std::vector<BrokenCase> brokenCases() {
  const std::string size = std::to_string(sizeof(ZcPluginDescriptor));
  const std::string smaller = std::to_string(sizeof(ZcPluginDescriptor) - 8);
  return {
      {"WrongAbiVersion", "bad_abi_version", "plugin ABI version 3, host expects 2"},
      {"WrongStructSize", "bad_struct_size",
       "descriptor size " + smaller + ", host expects " + size},
      {"WrongHeadersHash", "bad_headers_hash",
       "plugin headers hash 0000000000000000000000000000000000000000000000000000000000000000 "
       "differs from the host's " ZC_PLUGIN_HEADERS_HASH " (built against other headers)"},
      {"WrongToolchain", "bad_toolchain",
       "plugin toolchain 'gcc 4.8.5 cxx201103L glibcxx-abi0' differs from the host's '" +
           std::string(ZC_TOOLCHAIN_ID) + "'"},
      {"UnknownKind", "bad_kind", "unknown plugin kind 99"},
      {"BadName", "bad_name", "plugin name is not [a-z0-9_]{1,32}"},
      {"NoVersion", "no_version", "plugin has no version"},
      {"NullCreate", "null_create", "plugin has no create or destroy function"},
      {"NullDescriptor", "null_descriptor", "entry point returned no descriptor"},
      {"MissingEntrySymbol", "no_entry",
       "no entry point zc_plugin_entry_v2 (not a zynd-collector plugin of ABI v2)"},
  };
}

// Test names stay short in ctest's listing.
void PrintTo(const BrokenCase& c, std::ostream* os) {
  *os << c.plugin;
}

class BrokenPluginTest : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenPluginTest, LoadPluginLibraryRefusesWithOneLineReason) {
  const BrokenCase& c = GetParam();
  auto lib = host::loadPluginLibrary(testPlugin(c.plugin));
  ASSERT_FALSE(lib.isOk());
  EXPECT_EQ(lib.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(lib.status().message(), c.reason);
  EXPECT_EQ(lib.status().message().find('\n'), std::string::npos);
}

TEST_P(BrokenPluginTest, RegistryRecordsTheRefusal) {
  const BrokenCase& c = GetParam();
  host::PluginRegistry registry;
  Status s = registry.addLibrary(testPlugin(c.plugin));
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(registry.plugins().empty());
  ASSERT_EQ(registry.refused().size(), 1u);
  EXPECT_EQ(registry.refused()[0].path, testPlugin(c.plugin));
  EXPECT_EQ(registry.refused()[0].reason, c.reason);
}

INSTANTIATE_TEST_SUITE_P(EveryFailureMode, BrokenPluginTest, ::testing::ValuesIn(brokenCases()),
                         [](const auto& info) { return std::string(info.param.testName); });

TEST(PluginLoaderTest, GoodPluginLoads) {
  auto lib = host::loadPluginLibrary(testPlugin("good"));
  ASSERT_TRUE(lib.isOk()) << lib.status().toString();
  EXPECT_EQ(lib->path, testPlugin("good"));
  EXPECT_EQ(lib->kind(), ZC_PLUGIN_KIND_ROUTER);
  EXPECT_EQ(lib->name(), "tiny");
  EXPECT_EQ(lib->version(), "1.2.3");
  EXPECT_TRUE(host::checkDescriptor(lib->descriptor).isOk());
}

TEST(PluginLoaderTest, RelativePathsAreRefused) {
  for (const std::string path : {"", "zc_good.so", "./zc_good.so", "good/zc_good.so"}) {
    auto lib = host::loadPluginLibrary(path);
    ASSERT_FALSE(lib.isOk()) << path;
    EXPECT_EQ(lib.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(lib.status().message(), "plugin path '" + path + "' is not absolute");
  }
  host::PluginRegistry registry;
  EXPECT_EQ(registry.addLibrary("zc_good.so").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(registry.refused().size(), 1u);
  Status scan = registry.scanDirectory("test-plugins");
  EXPECT_EQ(scan.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(scan.message(), "plugin directory 'test-plugins' is not absolute");
}

TEST(PluginLoaderTest, FilesThatAreNotLibrariesAreRefused) {
  TempDir dir;
  const std::string garbage = dir.path() + "/zc_garbage.so";
  std::ofstream(garbage) << "not an ELF file\n";
  for (const std::string& path : {garbage, dir.path() + "/zc_missing.so"}) {
    auto lib = host::loadPluginLibrary(path);
    ASSERT_FALSE(lib.isOk()) << path;
    EXPECT_EQ(lib.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(lib.status().message().rfind("cannot load: ", 0), 0u) << lib.status().message();
    EXPECT_NE(lib.status().message().find(path), std::string::npos) << lib.status().message();
    EXPECT_EQ(lib.status().message().find('\n'), std::string::npos);
  }
}

TEST(PluginLoaderTest, CheckDescriptorNamesNullStrings) {
  ZcPluginDescriptor d = *host::loadPluginLibrary(testPlugin("good"))->descriptor;
  d.headersHash = nullptr;
  EXPECT_NE(host::checkDescriptor(&d).message().find("headers hash (null)"), std::string::npos);
  d.headersHash = ZC_PLUGIN_HEADERS_HASH;
  d.toolchain = nullptr;
  EXPECT_NE(host::checkDescriptor(&d).message().find("toolchain '(null)'"), std::string::npos);
  d.toolchain = ZC_TOOLCHAIN_ID;
  d.name = nullptr;
  EXPECT_EQ(host::checkDescriptor(&d).message(), "plugin name is not [a-z0-9_]{1,32}");
  d.name = "a_name_that_is_thirty_three_chars";
  EXPECT_EQ(host::checkDescriptor(&d).code(), Status::Code::kInvalidArgument);
  d.name = "a_name_that_is_thirty_two_chars_";
  EXPECT_TRUE(host::checkDescriptor(&d).isOk());
  d.version = nullptr;
  EXPECT_EQ(host::checkDescriptor(&d).message(), "plugin has no version");
  d.version = "1";
  d.destroy = nullptr;
  EXPECT_EQ(host::checkDescriptor(&d).message(), "plugin has no create or destroy function");
}

// A directory with every broken plugin, the good one, one that fails in create(), a file that
// is not a library and files the scan must ignore.
class PluginScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& c : brokenCases()) copy(c.plugin);
    copy("good");
    copy("create_throws");
    copy("create_null");
    std::ofstream(dir_.path() + "/zc_garbage.so") << "not an ELF file\n";
    // Not zc_*.so: ignored, neither loaded nor refused.
    fs::copy_file(testPlugin("twin"), dir_.path() + "/libzc_twin.so");
    fs::copy_file(testPlugin("twin"), dir_.path() + "/zc_twin.so.bak");
    fs::copy_file(testPlugin("twin"), dir_.path() + "/twin.so");
  }
  void copy(const std::string& c) {
    fs::copy_file(testPlugin(c), dir_.path() + "/zc_" + c + ".so");
  }

  TempDir dir_;
  host::PluginRegistry registry_;
  Context context_;
};

TEST_F(PluginScanTest, LoadsTheGoodOnesAndRecordsEachRefusal) {
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());

  std::set<std::string> loaded;
  for (const auto& p : registry_.plugins()) loaded.insert(std::string(p.name()));
  EXPECT_EQ(loaded, (std::set<std::string>{"tiny", "create_throws", "create_null"}));

  std::set<std::string> refusedPaths;
  for (const auto& r : registry_.refused()) {
    refusedPaths.insert(r.path);
    EXPECT_FALSE(r.reason.empty()) << r.path;
    EXPECT_EQ(r.reason.find('\n'), std::string::npos) << r.reason;
  }
  std::set<std::string> expected = {dir_.path() + "/zc_garbage.so"};
  for (const auto& c : brokenCases()) expected.insert(dir_.path() + "/zc_" + c.plugin + ".so");
  EXPECT_EQ(refusedPaths, expected);
  EXPECT_EQ(registry_.refused().size(), expected.size());

  context_.ctx.options["answer"] = "tiny is busy";
  auto router = registry_.create<plugin::Router>("tiny", context_.ctx);
  ASSERT_TRUE(router.isOk()) << router.status().toString();
  Status s = (*router)->removeRoute("zynd-a");
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(s.message(), "tiny is busy");
}

TEST_F(PluginScanTest, CreateThatThrowsOrReturnsNullIsAnError) {
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  auto throws = registry_.create<plugin::Router>("create_throws", context_.ctx);
  ASSERT_FALSE(throws.isOk());
  EXPECT_EQ(throws.status().code(), Status::Code::kInternal);
  EXPECT_EQ(throws.status().message(),
            "router plugin 'create_throws' failed to start: tiny router refuses to start");

  auto null = registry_.create<plugin::Router>("create_null", context_.ctx);
  ASSERT_FALSE(null.isOk());
  EXPECT_EQ(null.status().code(), Status::Code::kInternal);
  EXPECT_EQ(null.status().message(),
            "router plugin 'create_null' failed to start: create() returned null");
}

TEST_F(PluginScanTest, ConfigureRefusalNamesTheFullOptionAndCreatesNothing) {
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  context_.ctx.options["colour"] = "blue";
  auto router = registry_.create<plugin::Router>("tiny", context_.ctx);
  ASSERT_FALSE(router.isOk());
  EXPECT_EQ(router.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(router.status().message(), "router.tiny.colour: unknown key (known: answer)");
}

TEST_F(PluginScanTest, OptionSpecsComeFromAnUnconfiguredObject) {
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  const host::PluginLibrary* lib = registry_.find(ZC_PLUGIN_KIND_ROUTER, "tiny");
  ASSERT_NE(lib, nullptr);
  auto specs = registry_.optionSpecs(*lib);
  ASSERT_TRUE(specs.isOk()) << specs.status().toString();
  ASSERT_EQ(specs->size(), 1u);
  EXPECT_EQ((*specs)[0].key, "answer");
  EXPECT_EQ((*specs)[0].type, plugin::OptionType::kString);

  const host::PluginLibrary* throws = registry_.find(ZC_PLUGIN_KIND_ROUTER, "create_throws");
  ASSERT_NE(throws, nullptr);
  EXPECT_EQ(registry_.optionSpecs(*throws).status().code(), Status::Code::kInternal);
}

TEST_F(PluginScanTest, MissingNameIsNotFoundListingWhatExists) {
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  auto router = registry_.create<plugin::Router>("caddy", context_.ctx);
  ASSERT_FALSE(router.isOk());
  EXPECT_TRUE(router.status().isNotFound());
  // Scan order is by file name: zc_create_null, zc_create_throws, zc_good.
  EXPECT_EQ(router.status().message(),
            "no router plugin named 'caddy' (found: create_null, create_throws, tiny)");
}

TEST_F(PluginScanTest, KindMismatchIsNotFound) {
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  auto storage = registry_.create<plugin::Storage>("tiny", context_.ctx);
  ASSERT_FALSE(storage.isOk());
  EXPECT_TRUE(storage.status().isNotFound());
  EXPECT_EQ(storage.status().message(), "no storage plugin named 'tiny' (found: none)");
  EXPECT_EQ(registry_.find(ZC_PLUGIN_KIND_STORAGE, "tiny"), nullptr);
  EXPECT_NE(registry_.find(ZC_PLUGIN_KIND_ROUTER, "tiny"), nullptr);
}

TEST(PluginRegistryTest, DuplicateKindAndNameIsRefused) {
  TempDir dir;
  fs::copy_file(testPlugin("good"), dir.path() + "/zc_good.so");
  fs::copy_file(testPlugin("twin"), dir.path() + "/zc_twin.so");
  host::PluginRegistry registry;
  ASSERT_TRUE(registry.scanDirectory(dir.path()).isOk());
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0].path, dir.path() + "/zc_good.so");
  ASSERT_EQ(registry.refused().size(), 1u);
  EXPECT_EQ(registry.refused()[0].path, dir.path() + "/zc_twin.so");
  EXPECT_EQ(registry.refused()[0].reason,
            "duplicate router plugin 'tiny', already from " + dir.path() + "/zc_good.so");

  // The same through addLibrary, from the build tree.
  Status again = registry.addLibrary(testPlugin("twin"));
  EXPECT_EQ(again.code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(registry.plugins().size(), 1u);
}

// Whether the process maps the file `path` (a dlopen()ed library does, for good).
bool isMapped(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const size_t n = path.size();
    if (line.size() >= n && line.compare(line.size() - n, n, path) == 0) return true;
  }
  return false;
}

// Libraries named zc_<kind>_<name>.so: a scan records them, open() loads only the one asked for.
class DeferredPluginTest : public ::testing::Test {
 protected:
  // Copies the test plugin <c>/zc_<c>.so to `dir` as `file`; returns the new path.
  std::string copy(const std::string& c, const std::string& file, const std::string& dir = "") {
    const std::string path = (dir.empty() ? dir_.path() : dir) + "/" + file;
    fs::copy_file(testPlugin(c), path);
    return path;
  }

  TempDir dir_;
  host::PluginRegistry registry_;
  Context context_;
};

TEST_F(DeferredPluginTest, ScanOpensNoLibraryThatItsFileNameIdentifies) {
  const std::string tiny = copy("good", "zc_router_tiny.so");
  const std::string bad = copy("bad_abi_version", "zc_storage_bad.so");
  const std::string eager = copy("create_null", "zc_create_null.so");  // no kind in its name
  const std::string noName = copy("create_throws", "zc_router_.so");   // no name after the kind
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());

  ASSERT_EQ(registry_.deferred().size(), 2u);
  EXPECT_EQ(registry_.deferred()[0].path, tiny);
  EXPECT_EQ(registry_.deferred()[0].kind, ZC_PLUGIN_KIND_ROUTER);
  EXPECT_EQ(registry_.deferred()[0].name, "tiny");
  EXPECT_EQ(registry_.deferred()[1].path, bad);
  EXPECT_EQ(registry_.deferred()[1].kind, ZC_PLUGIN_KIND_STORAGE);
  EXPECT_EQ(registry_.deferred()[1].name, "bad");
  EXPECT_FALSE(isMapped(tiny));
  EXPECT_FALSE(isMapped(bad));
  EXPECT_TRUE(registry_.refused().empty());  // a broken library is not refused before it is used

  std::set<std::string> loaded;
  for (const auto& p : registry_.plugins()) loaded.insert(p.path);
  EXPECT_EQ(loaded, (std::set<std::string>{eager, noName}));
}

TEST_F(DeferredPluginTest, OpenLoadsOnlyTheNamedPlugin) {
  const std::string tiny = copy("good", "zc_router_tiny.so");
  const std::string other = copy("create_null", "zc_router_create_null.so");
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());

  ASSERT_TRUE(registry_.open(ZC_PLUGIN_KIND_ROUTER, "tiny").isOk());
  EXPECT_TRUE(isMapped(tiny));
  EXPECT_FALSE(isMapped(other));
  ASSERT_EQ(registry_.plugins().size(), 1u);
  EXPECT_EQ(registry_.plugins()[0].path, tiny);
  ASSERT_EQ(registry_.deferred().size(), 1u);
  EXPECT_EQ(registry_.deferred()[0].path, other);
  EXPECT_TRUE(registry_.open(ZC_PLUGIN_KIND_ROUTER, "tiny").isOk());  // again: already loaded

  registry_.freeze();
  context_.ctx.options["answer"] = "tiny is busy";
  EXPECT_TRUE(registry_.create<plugin::Router>("tiny", context_.ctx).isOk());
}

TEST_F(DeferredPluginTest, NotFoundListsTheDeferredPluginsByName) {
  copy("good", "zc_router_tiny.so");
  copy("create_null", "zc_router_create_null.so");
  copy("create_throws", "zc_create_throws.so");  // loaded at scan: router create_throws
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());

  // Loaded ones first, then the deferred ones in file-name order.
  const std::string message =
      "no router plugin named 'caddy' (found: create_throws, create_null, tiny)";
  Status opened = registry_.open(ZC_PLUGIN_KIND_ROUTER, "caddy");
  EXPECT_TRUE(opened.isNotFound());
  EXPECT_EQ(opened.message(), message);
  EXPECT_EQ(registry_.lookup(ZC_PLUGIN_KIND_ROUTER, "caddy").status().message(), message);
  EXPECT_EQ(registry_.lookup(ZC_PLUGIN_KIND_STORAGE, "tiny").status().message(),
            "no storage plugin named 'tiny' (found: none)");
  EXPECT_EQ(registry_.deferred().size(), 2u);
}

TEST_F(DeferredPluginTest, LibraryThatIsNotThePluginItsNameSaysIsRefused) {
  const std::string other = copy("good", "zc_router_other.so");
  const std::string storage = copy("good", "zc_storage_tiny.so");
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());

  Status s = registry_.open(ZC_PLUGIN_KIND_ROUTER, "other");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "the file name says router plugin 'other', the library is router plugin 'tiny'");
  s = registry_.open(ZC_PLUGIN_KIND_STORAGE, "tiny");
  EXPECT_EQ(s.message(),
            "the file name says storage plugin 'tiny', the library is router plugin 'tiny'");
  EXPECT_TRUE(registry_.plugins().empty());
  EXPECT_TRUE(registry_.deferred().empty());
  ASSERT_EQ(registry_.refused().size(), 2u);
  EXPECT_EQ(registry_.refused()[0].path, other);
  EXPECT_EQ(registry_.refused()[0].reason,
            "the file name says router plugin 'other', the library is router plugin 'tiny'");
  EXPECT_EQ(registry_.refused()[1].path, storage);
}

TEST_F(DeferredPluginTest, DuplicatesAreRefusedWithoutBeingOpened) {
  TempDir second;
  const std::string first = copy("good", "zc_router_tiny.so");
  const std::string twin = copy("twin", "zc_router_tiny.so", second.path());
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  ASSERT_TRUE(registry_.scanDirectory(second.path()).isOk());

  ASSERT_TRUE(registry_.open(ZC_PLUGIN_KIND_ROUTER, "tiny").isOk());
  ASSERT_EQ(registry_.plugins().size(), 1u);
  EXPECT_EQ(registry_.plugins()[0].path, first);
  ASSERT_EQ(registry_.refused().size(), 1u);
  EXPECT_EQ(registry_.refused()[0].path, twin);
  EXPECT_EQ(registry_.refused()[0].reason,
            "duplicate router plugin 'tiny', already from " + first);
  EXPECT_FALSE(isMapped(twin));
}

TEST_F(DeferredPluginTest, LibraryLoadedAtScanWinsOverADeferredOne) {
  const std::string eager = copy("good", "zc_good.so");  // router tiny, loaded at scan
  const std::string named = copy("twin", "zc_router_tiny.so");
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  ASSERT_TRUE(registry_.open(ZC_PLUGIN_KIND_ROUTER, "tiny").isOk());
  ASSERT_EQ(registry_.plugins().size(), 1u);
  EXPECT_EQ(registry_.plugins()[0].path, eager);
  ASSERT_EQ(registry_.refused().size(), 1u);
  EXPECT_EQ(registry_.refused()[0].reason,
            "duplicate router plugin 'tiny', already from " + eager);
  EXPECT_FALSE(isMapped(named));
}

TEST_F(DeferredPluginTest, RefusedCandidateLeavesTheNextOne) {
  TempDir second;
  const std::string broken = copy("bad_abi_version", "zc_router_tiny.so");
  const std::string good = copy("good", "zc_router_tiny.so", second.path());
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  ASSERT_TRUE(registry_.scanDirectory(second.path()).isOk());
  ASSERT_TRUE(registry_.open(ZC_PLUGIN_KIND_ROUTER, "tiny").isOk());
  ASSERT_EQ(registry_.plugins().size(), 1u);
  EXPECT_EQ(registry_.plugins()[0].path, good);
  ASSERT_EQ(registry_.refused().size(), 1u);
  EXPECT_EQ(registry_.refused()[0].path, broken);
  EXPECT_EQ(registry_.refused()[0].reason, "plugin ABI version 3, host expects 2");
}

TEST_F(DeferredPluginTest, OpenAllOpensEveryDeferredLibrary) {
  copy("good", "zc_router_tiny.so");
  copy("create_null", "zc_router_create_null.so");
  const std::string bad = copy("bad_abi_version", "zc_sink_bad.so");
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  ASSERT_TRUE(registry_.openAll().isOk());
  EXPECT_TRUE(registry_.deferred().empty());
  std::set<std::string> loaded;
  for (const auto& p : registry_.plugins()) loaded.insert(std::string(p.name()));
  EXPECT_EQ(loaded, (std::set<std::string>{"tiny", "create_null"}));
  ASSERT_EQ(registry_.refused().size(), 1u);
  EXPECT_EQ(registry_.refused()[0].path, bad);
}

TEST_F(DeferredPluginTest, FrozenRegistryOpensNothing) {
  const std::string tiny = copy("good", "zc_router_tiny.so");
  ASSERT_TRUE(registry_.scanDirectory(dir_.path()).isOk());
  registry_.freeze();
  EXPECT_EQ(registry_.open(ZC_PLUGIN_KIND_ROUTER, "tiny").code(),
            Status::Code::kFailedPrecondition);
  EXPECT_EQ(registry_.openAll().code(), Status::Code::kFailedPrecondition);
  EXPECT_FALSE(isMapped(tiny));

  auto router = registry_.create<plugin::Router>("tiny", context_.ctx);
  ASSERT_FALSE(router.isOk());
  EXPECT_EQ(router.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(router.status().message(),
            "router plugin 'tiny' in " + tiny + " was never opened (open() it before use)");
}

TEST(PluginRegistryTest, MissingDirectoryIsNotFound) {
  TempDir dir;
  host::PluginRegistry registry;
  Status s = registry.scanDirectory(dir.path() + "/nothing-here");
  EXPECT_TRUE(s.isNotFound()) << s.toString();
}

TEST(PluginRegistryTest, FrozenRegistryRefusesLibrariesButCreates) {
  host::PluginRegistry registry;
  ASSERT_TRUE(registry.addLibrary(testPlugin("good")).isOk());
  registry.freeze();
  EXPECT_EQ(registry.addLibrary(testPlugin("create_null")).code(),
            Status::Code::kFailedPrecondition);
  Context context;
  EXPECT_TRUE(registry.create<plugin::Router>("tiny", context.ctx).isOk());
}

}  // namespace
}  // namespace zc::testing
