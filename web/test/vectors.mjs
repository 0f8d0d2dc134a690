// Shared by the tests: reading vectors/*.json (made by the Rust codec, rules and server; see
// client/tests/vectors/generate/), hex, and comparing decoded values with serde's JSON of the Rust values.

import assert from 'node:assert/strict';
import fs from 'node:fs';

const dir = new URL('../../vectors/', import.meta.url);

/** The parsed vectors file `name`, or null when it is not there (the test then skips, saying so). */
export function load(name) {
  const url = new URL(name, dir);
  return fs.existsSync(url) ? JSON.parse(fs.readFileSync(url, 'utf8')) : null;
}

/** The `skip` option of a test that needs vectors file `name`. */
export function needs(name) {
  return fs.existsSync(new URL(name, dir)) ? {} : { skip: `vectors/${name} is not there (cargo run -p arena-client --example make_vectors)` };
}

export const bytes = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * Asserts that a decoded value is the JSON value: numbers equal, or equal as f32 (the JSON holds an f32's
 * shortest form, the decoder its exact value); serde writes a non-finite float as null; byte arrays are
 * compared as arrays.
 */
export function assertSame(got, want, path = 'value') {
  if (got instanceof Uint8Array) got = [...got];
  if (typeof got === 'number' && (typeof want === 'number' || want === null)) {
    const ok = want === null ? !Number.isFinite(got) : got === want || Math.fround(want) === got;
    assert.ok(ok, `${path}: got ${got}, want ${want}`);
    return;
  }
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${path}: got ${JSON.stringify(got)}, want an array`);
    assert.equal(got.length, want.length, `${path}: length`);
    want.forEach((w, i) => assertSame(got[i], w, `${path}[${i}]`));
    return;
  }
  if (want !== null && typeof want === 'object') {
    assert.ok(got !== null && typeof got === 'object', `${path}: got ${JSON.stringify(got)}`);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${path}: fields`);
    for (const k of Object.keys(want)) assertSame(got[k], want[k], `${path}.${k}`);
    return;
  }
  assert.equal(got, want, path);
}

/** Runs `f` and returns the `kind` of the CodecError it throws (failing when it throws nothing). */
export function errorKind(f) {
  try {
    f();
  } catch (e) {
    assert.ok(e.kind, `not a CodecError: ${e.stack}`);
    return e.kind;
  }
  return assert.fail('no error');
}
