import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { modelDigest } from './digest.ts';
import { tempDir } from './tiny-model.test-helper.ts';

test('the digest is stable and changes with format, name, size, head/tail bytes and extra text', (t) => {
  const dir = tempDir(t);
  const big = path.join(dir, 'w.bin');
  const bytes = Buffer.alloc(3 << 20, 7);
  fs.writeFileSync(big, bytes);
  const base = modelDigest('hf', [big], ['{}']);
  assert.equal(modelDigest('hf', [big], ['{}']), base);
  assert.notEqual(modelDigest('gguf', [big], ['{}']), base);
  assert.notEqual(modelDigest('hf', [big], ['{"a":1}']), base);
  assert.notEqual(modelDigest('hf', [big]), base);

  const changed = (mutate: (b: Buffer) => Buffer) => {
    fs.writeFileSync(big, mutate(Buffer.from(bytes)));
    const digest = modelDigest('hf', [big], ['{}']);
    fs.writeFileSync(big, bytes);
    return digest;
  };
  assert.notEqual(
    changed((b) => {
      b[10] = 1;
      return b;
    }),
    base,
    'head byte',
  );
  assert.notEqual(
    changed((b) => {
      b[b.length - 10] = 1;
      return b;
    }),
    base,
    'tail byte',
  );
  assert.notEqual(
    changed((b) => b.subarray(1)),
    base,
    'size',
  );
  // Documented limit: a same-size change in the middle of a file over 2 MiB is not seen.
  assert.equal(
    changed((b) => {
      b[3 << 19] = 1;
      return b;
    }),
    base,
  );

  const renamed = path.join(dir, 'x.bin');
  fs.copyFileSync(big, renamed);
  assert.notEqual(modelDigest('hf', [renamed], ['{}']), base);
});
