#include "token_command.h"

#include <algorithm>
#include <filesystem>

#include "zc/exporters/tokens.h"

namespace zc::collector {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 78;  // as every other bad option of the collector

int fail(std::ostream& err, const std::string& message) {
  err << "zynd-collector: token: " << message << "\n";
  return kExitUsage;
}

// The file's tokens; a missing file is an empty list.
zc::Result<std::vector<exporters::TokenRecord>> load(const std::string& path) {
  auto records = exporters::readTokensFile(path);
  if (!records.isOk() && records.status().code() == zc::Status::Code::kNotFound) {
    return std::vector<exporters::TokenRecord>();
  }
  return records;
}

int add(const std::string& name, const std::string& scopeText, const std::string& path,
        std::ostream& out, std::ostream& err) {
  if (zc::Status st = exporters::validateTokenName(name); !st.isOk())
    return fail(err, st.message());
  if (scopeText.empty()) return fail(err, "add needs --scope read|operate");
  auto scope = exporters::parseTokenScope(scopeText);
  if (!scope.isOk()) return fail(err, "--scope: " + scope.status().message());
  auto records = load(path);
  if (!records.isOk()) return fail(err, records.status().message());
  if (std::any_of(records->begin(), records->end(), [&](auto& r) { return r.name == name; })) {
    return fail(err, "a token named '" + name + "' already exists in " + path);
  }
  auto secret = exporters::generateToken();
  if (!secret.isOk()) return fail(err, secret.status().message());
  records->push_back(exporters::TokenRecord{name, *scope, exporters::sha256Hex(*secret)});
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (zc::Status st = exporters::writeTokensFile(path, *records); !st.isOk()) {
    return fail(err, st.message());
  }
  out << "token '" << name << "' (" << exporters::tokenScopeName(*scope) << ") added to " << path
      << "; only its hash is kept, so copy it now. Send it as 'Authorization: Bearer <token>':\n"
      << *secret << "\n";
  return kExitOk;
}

int list(const std::string& path, std::ostream& out, std::ostream& err) {
  auto records = load(path);
  if (!records.isOk()) return fail(err, records.status().message());
  out << "NAME SCOPE\n";
  for (const auto& r : *records) out << r.name << " " << exporters::tokenScopeName(r.scope) << "\n";
  return kExitOk;
}

int revoke(const std::string& name, const std::string& path, std::ostream& out, std::ostream& err) {
  auto records = load(path);
  if (!records.isOk()) return fail(err, records.status().message());
  auto it = std::find_if(records->begin(), records->end(), [&](auto& r) { return r.name == name; });
  if (it == records->end()) return fail(err, "no token named '" + name + "' in " + path);
  records->erase(it);
  if (zc::Status st = exporters::writeTokensFile(path, *records); !st.isOk()) {
    return fail(err, st.message());
  }
  out << "token '" << name << "' revoked in " << path << "\n";
  return kExitOk;
}

}  // namespace

int runTokenCommand(const std::vector<std::string>& args, const std::string& scope,
                    const std::string& path, std::ostream& out, std::ostream& err) {
  const std::string sub = args.empty() ? std::string() : args[0];
  if (sub == "add" && args.size() == 2) return add(args[1], scope, path, out, err);
  if (sub == "list" && args.size() == 1) return list(path, out, err);
  if (sub == "revoke" && args.size() == 2) return revoke(args[1], path, out, err);
  return fail(err, "usage: token add NAME --scope read|operate | token list | token revoke NAME");
}

}  // namespace zc::collector
