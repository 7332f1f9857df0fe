// `zynd-collector token ...`: manages the tokens file the daemon checks requests against
// (format and hashing in zc/exporters/tokens.h).
//
//   token add NAME --scope read|operate   creates a token, stores only its SHA-256, prints the
//                                         secret once as the last line of its output
//   token list                            names and scopes (never secrets or hashes)
//   token revoke NAME                     removes the token
//
// Every change rewrites the file atomically with mode 0600; a running daemon picks it up within
// about a second (or at once on SIGHUP). Bad input (unknown scope or sub-command, duplicate or
// unknown name, unreadable or malformed file) writes one line to `err` and returns 78.
//
// Thread-safety: call from one thread; concurrent commands on one file may lose an update.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace zc::collector {

// `args`: the words after "token" (e.g. {"add", "ci"}); `scope`: the --scope value (may be
// empty); `path`: the tokens file. Returns the process exit code.
int runTokenCommand(const std::vector<std::string>& args, const std::string& scope,
                    const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace zc::collector
