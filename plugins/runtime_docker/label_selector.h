// Label selection: the `select_labels` option (--select-label KEY=VALUE), which makes the engine
// hand this collector only the containers carrying every one of those labels, so that several
// collectors can share one engine, each following its own set.
//
// Pure functions over untrusted option text; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "zc/status.h"

namespace zc::docker {

// Splits a comma list of KEY=VALUE. KEY: 1-128 of [A-Za-z0-9._/-]; VALUE: 0-256 printable ASCII
// characters other than ','. An empty list is no selection. InvalidArgument
// "select_labels: '<entry>' is not KEY=VALUE ..." on the first bad entry.
Result<std::vector<std::string>> parseSelectLabels(std::string_view commaList);

// The engine's `filters` JSON (not yet URL-encoded) for a container list, an event stream, ...:
// `base` is the object's members without braces (e.g. `"name":["^/?zynd-"]`), `labels` the
// label filters every answer must match (each "KEY" or "KEY=VALUE"), added as one "label" array
// (label filters AND together on the engine).
std::string filtersJson(std::string_view base, const std::vector<std::string>& labels);

}  // namespace zc::docker
