// @module A fast, stable model digest: sizes plus hashes of each weight file's first and last MiB.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readFileRange } from './file-range.ts';

const EDGE_BYTES = 1 << 20;

/**
 * sha256 (hex) over the format, each weight file's base name, size and the sha256 of its first and last
 * MiB, then any extra texts (e.g. config.json). Reads at most 2 MiB per file, so it is fast for big models;
 * editing a tensor in the middle of a large file without changing its size is not detected.
 */
export function modelDigest(format: string, weightFiles: string[], extraTexts: string[] = []): string {
  const hash = createHash('sha256');
  const field = (value: string | Uint8Array): void => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  };
  field(format);
  for (const file of weightFiles) {
    const size = fs.statSync(file).size;
    field(path.basename(file));
    field(String(size));
    const head = readFileRange(file, 0, Math.min(EDGE_BYTES, size));
    const tailLength = Math.min(EDGE_BYTES, size);
    const tail = readFileRange(file, size - tailLength, tailLength);
    field(createHash('sha256').update(head).digest('hex'));
    field(createHash('sha256').update(tail).digest('hex'));
  }
  for (const text of extraTexts) field(text);
  return hash.digest('hex');
}
