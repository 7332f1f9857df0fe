// The document's schemas as Ajv validators (JSON Schema 2020-12, strict): what lint.mjs compiles
// and contract.mjs validates every response body with.
//
// compileDocument(doc) -> { response(path, method, status) }, where path is a path template of
// the document ("/api/deployments/{id}") and the result is the resolved Response Object plus,
// for each of its media types, a validate(body) function (null for a media type without a
// schema). Throws when a schema does not compile. Components' schemas are compiled once, under
// urn:zc:openapi#/$defs/<name>; '#/components/schemas/<name>' references are rewritten to it.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const kBase = 'urn:zc:openapi';

function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
        out[k] = `${kBase}#/$defs/${v.slice('#/components/schemas/'.length)}`;
      } else {
        out[k] = rewriteRefs(v);
      }
    }
    return out;
  }
  return node;
}

function deref(doc, obj) {
  let seen = 0;
  while (obj && obj.$ref) {
    if (++seen > 16) throw new Error(`$ref loop at ${obj.$ref}`);
    obj = obj.$ref.slice(2).split('/').reduce((o, k) => o?.[k], doc);
  }
  return obj;
}

export function makeAjv() {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('uint64', { type: 'number', validate: (n) => Number.isInteger(n) && n >= 0 });
  return ajv;
}

export function compileDocument(doc) {
  const ajv = makeAjv();
  ajv.addSchema({ $id: kBase, $defs: rewriteRefs(doc.components?.schemas ?? {}) });
  // Compile every component schema now, so that a broken one fails here and not mid-test.
  for (const name of Object.keys(doc.components?.schemas ?? {})) {
    ajv.getSchema(`${kBase}#/$defs/${name}`) ?? (() => { throw new Error(`schema ${name}`); })();
  }
  const cache = new Map();
  const compileResponse = (where, response) => {
    const media = {};
    for (const [type, m] of Object.entries(response.content ?? {})) {
      try {
        media[type] = m.schema ? ajv.compile(rewriteRefs(m.schema)) : null;
      } catch (e) {
        throw new Error(`${where} ${type}: ${e.message}`);
      }
    }
    return { response, media };
  };
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      for (const [status, r] of Object.entries(op.responses)) {
        const where = `${method.toUpperCase()} ${p} ${status}`;
        cache.set(where, compileResponse(where, deref(doc, r)));
      }
    }
  }
  for (const [name, r] of Object.entries(doc.components?.responses ?? {})) {
    cache.set(`component ${name}`, compileResponse(`responses/${name}`, deref(doc, r)));
  }
  return {
    ajv,
    // The documented response of (path template, method, status), or undefined.
    response: (p, method, status) => cache.get(`${method.toUpperCase()} ${p} ${status}`),
    component: (name) => cache.get(`component ${name}`),
    schema: (name) => ajv.getSchema(`${kBase}#/$defs/${name}`),
  };
}
