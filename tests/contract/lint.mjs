// Lints docs/openapi.yaml: valid OpenAPI 3.1 (the specification's own JSON Schema, through
// @seriousme/openapi-schema-validator), every $ref resolved, every schema compiled by Ajv's
// JSON Schema 2020-12 validator in strict mode, operationIds unique, every path parameter
// declared. Prints "ok - ..." / "not ok - ..." and exits non-zero on any failure.
//
//   node tests/contract/lint.mjs [docs/openapi.yaml]      (ctest: contract.lint)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Validator } from '@seriousme/openapi-schema-validator';
import YAML from 'yaml';

import { compileDocument } from './openapi_schemas.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] || path.resolve(here, '../../docs/openapi.yaml');
let failed = 0;
const check = (name, fn) => {
  try {
    fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message}`);
  }
};

const text = fs.readFileSync(file, 'utf8');
const doc = YAML.parse(text, { strict: true, uniqueKeys: true });
const validator = new Validator();
const res = await validator.validate(structuredClone(doc));
check(`${path.basename(file)} is OpenAPI ${doc.openapi} (validator version ${validator.version})`, () => {
  if (!res.valid) throw new Error(JSON.stringify(res.errors, null, 1).slice(0, 4000));
  if (!/^3\.1\./.test(doc.openapi)) throw new Error(`openapi: ${doc.openapi}, 3.1.x expected`);
});
check('every $ref resolves', () => {
  const walk = (node, at) => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${at}/${i}`));
    if (node && typeof node === 'object') {
      if (typeof node.$ref === 'string') {
        if (!node.$ref.startsWith('#/')) throw new Error(`${at}: external $ref ${node.$ref}`);
        let target = doc;
        for (const part of node.$ref.slice(2).split('/')) {
          target = target?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
        }
        if (target === undefined) throw new Error(`${at}: $ref ${node.$ref} resolves to nothing`);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
    }
  };
  walk(doc, '#');
});
check('every schema compiles (Ajv 2020-12, strict)', () => {
  compileDocument(doc);
});
check('operationIds are unique; path parameters are declared', () => {
  const seen = new Set();
  for (const [p, item] of Object.entries(doc.paths)) {
    const wanted = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method)) continue;
      if (!op.operationId) throw new Error(`${method.toUpperCase()} ${p}: no operationId`);
      if (seen.has(op.operationId)) throw new Error(`operationId ${op.operationId} twice`);
      seen.add(op.operationId);
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((x) =>
        x.$ref ? x.$ref.split('/').reduce((o, k) => (k === '#' ? doc : o[k]), null) : x);
      for (const name of wanted) {
        if (!params.some((x) => x.in === 'path' && x.name === name)) {
          throw new Error(`${method.toUpperCase()} ${p}: path parameter {${name}} not declared`);
        }
      }
    }
  }
});
console.log(`${failed ? 'FAILED' : 'passed'}: ${file}`);
process.exit(failed ? 1 : 0);
