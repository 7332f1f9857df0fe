// Checks one HTTP answer against the API description: its status is one the document gives for
// that (path template, method), its Content-Type one of that response's media types, its
// required headers present and matching, its JSON body valid against the media type's schema.
// Records what it checked, so that the run can report (and require) its coverage.
//
// Thread-safety: none needed (one Node process).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import YAML from 'yaml';

import { compileDocument } from './openapi_schemas.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const docPath = path.resolve(here, '../../docs/openapi.yaml');
export const doc = YAML.parse(fs.readFileSync(docPath, 'utf8'), { strict: true, uniqueKeys: true });
export const compiled = compileDocument(doc);

const kMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** The documented methods of a path template, upper case (HEAD added where GET is). */
export function documentedMethods(p) {
  const item = doc.paths[p];
  if (!item) return [];
  const m = kMethods.filter((k) => item[k]).map((k) => k.toUpperCase());
  if (m.includes('GET') && !m.includes('HEAD')) m.push('HEAD');
  return m;
}

/** Every documented operation as "METHOD /path". */
export function documentedOperations() {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const k of kMethods) if (item[k]) out.push(`${k.toUpperCase()} ${p}`);
  }
  return out;
}

export const covered = new Set();  // "METHOD /path STATUS" validated

function mediaTypeOf(headers) {
  return String(headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function ajvErrors(validate) {
  return (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}

function checkHeaders(where, documented, res) {
  for (const [name, h] of Object.entries(documented.headers ?? {})) {
    const spec = h.$ref ? h.$ref.slice(2).split('/').reduce((o, k) => o[k], doc) : h;
    const value = res.headers[name.toLowerCase()];
    if (value == null) {
      if (spec.required) throw new Error(`${where}: header ${name} is required and missing`);
      continue;
    }
    const s = spec.schema ?? {};
    const v = Array.isArray(value) ? value.join(', ') : String(value);
    if (s.const != null && v !== s.const) throw new Error(`${where}: header ${name} is ${JSON.stringify(v)}, documented ${JSON.stringify(s.const)}`);
    if (s.pattern && !new RegExp(s.pattern).test(v)) throw new Error(`${where}: header ${name} ${JSON.stringify(v)} does not match ${s.pattern}`);
  }
}

/**
 * Validates `res` ({status, headers, body}) as the answer to `method` on path template `p`;
 * `expected` is the status the case provoked. Returns the parsed JSON body (or the text).
 * Throws with what does not match.
 */
export function expectContract(p, method, res, expected) {
  const where = `${method} ${p} -> ${res.status}`;
  if (expected != null && res.status !== expected) {
    throw new Error(`${method} ${p}: expected ${expected}, got ${res.status} ${String(res.body).slice(0, 300)}`);
  }
  const op = method === 'HEAD' ? 'GET' : method;
  if (!doc.paths[p]) throw new Error(`${where}: path ${p} is not in the document`);
  const documented = compiled.response(p, op, String(res.status));
  if (!documented) throw new Error(`${where}: status ${res.status} is not documented for ${op} ${p}`);
  checkHeaders(where, documented.response, res);
  const body = checkBody(where, documented, res, method === 'HEAD');
  covered.add(`${op} ${p} ${res.status}`);
  return body;
}

/** Validates `res` against a response of components/responses (server-wide answers). */
export function expectComponent(name, res, expected) {
  const where = `${name} -> ${res.status}`;
  if (expected != null && res.status !== expected) throw new Error(`${where}: expected ${expected}: ${String(res.body).slice(0, 300)}`);
  const documented = compiled.component(name);
  if (!documented) throw new Error(`components/responses/${name} is not in the document`);
  checkHeaders(where, documented.response, res);
  return checkBody(where, documented, res, false);
}

function checkBody(where, documented, res, head) {
  const types = Object.keys(documented.response.content ?? {});
  const type = mediaTypeOf(res.headers);
  if (types.length === 0) return res.body;
  if (!types.includes(type)) throw new Error(`${where}: Content-Type ${res.headers['content-type']} is not one of ${types.join(', ')}`);
  if (head) {
    if (res.body) throw new Error(`${where}: HEAD answered with a body`);
    return null;
  }
  const validate = documented.media[type];
  if (type === 'application/json') {
    let parsed;
    try {
      parsed = JSON.parse(res.body);
    } catch (e) {
      throw new Error(`${where}: the body is not JSON: ${e.message}`);
    }
    if (validate && !validate(parsed)) throw new Error(`${where}: body does not match the schema: ${ajvErrors(validate)}\n${String(res.body).slice(0, 400)}`);
    return parsed;
  }
  if (validate && !validate(res.body)) throw new Error(`${where}: body does not match the schema: ${ajvErrors(validate)}`);
  return res.body;
}

/** Validates a value against components/schemas/<name>. */
export function expectSchema(name, value, what) {
  const validate = compiled.schema(name);
  if (!validate) throw new Error(`components/schemas/${name} is not in the document`);
  if (!validate(value)) throw new Error(`${what}: does not match ${name}: ${ajvErrors(validate)}\n${JSON.stringify(value).slice(0, 400)}`);
}
