// Build step: converts the API description (docs/openapi.yaml) into the C++ source that holds it
// as JSON, served by the collector at GET /api/openapi.json (src/openapi_route.*).
//
//   node embed.mjs <docs/openapi.yaml> <out.cpp> [<out.json>]
//
// The YAML is parsed strictly (duplicate keys are errors); the JSON is compact. Writes the
// outputs only when their content changes, so an unchanged document rebuilds nothing.
import fs from 'node:fs';

import YAML from 'yaml';

const [input, outCpp, outJson] = process.argv.slice(2);
if (!input || !outCpp) {
  console.error('usage: node embed.mjs <openapi.yaml> <out.cpp> [<out.json>]');
  process.exit(2);
}
let doc;
try {
  doc = YAML.parse(fs.readFileSync(input, 'utf8'), { strict: true, uniqueKeys: true });
} catch (e) {
  console.error(`${input}: ${e.message}`);
  process.exit(1);
}
if (!doc || typeof doc !== 'object' || typeof doc.openapi !== 'string' || !doc.paths) {
  console.error(`${input}: not an OpenAPI document (no 'openapi' or 'paths')`);
  process.exit(1);
}
const json = JSON.stringify(doc);
const delimiter = 'zc_openapi';
if (json.includes(`)${delimiter}"`)) {
  console.error(`${input}: the document contains the raw-string delimiter )${delimiter}"`);
  process.exit(1);
}
// A raw string literal per 16 KiB piece: compilers bound the length of one literal.
const pieces = [];
for (let i = 0; i < json.length; i += 16384) pieces.push(json.slice(i, i + 16384));
const cpp = `// Generated from ${input.split('/').slice(-2).join('/')} by exporters/openapi/embed.mjs: do not edit.
#include "openapi_route.h"

namespace zc::exporters {
namespace {
constexpr const char* kPieces[] = {
${pieces.map((p) => `    R"${delimiter}(${p})${delimiter}"`).join(',\n')}};
}  // namespace

const std::string& openApiJson() {
  static const std::string kJson = [] {
    std::string s;
    for (const char* p : kPieces) s += p;
    return s;
  }();
  return kJson;
}

}  // namespace zc::exporters
`;
const writeIfChanged = (file, text) => {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return;
  fs.writeFileSync(file, text);
};
writeIfChanged(outCpp, cpp);
if (outJson) writeIfChanged(outJson, `${json}\n`);
