// @module The graph cache's builder version: a hash of the source code that decides what a built graph holds.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SourceSet {
  dir: string;
  /** Paths (relative to `dir`, subfolders included) that cannot change a graph: left out so editing them keeps the cache. */
  exclude?: RegExp;
}

const SHARD_SRC = fileURLToPath(new URL('..', import.meta.url));
const MODEL_FILES_SRC = path.dirname(fileURLToPath(import.meta.resolve('@tessera/model-files')));

/**
 * The graph builders, the per-rank weight slicing, and the model readers they take tensors from
 * (dequantization, Q/K permutation, block layouts, load-time quantization). The model's own bytes
 * are in the cache key separately (its digest). Tokenizers and writers do not touch a graph.
 */
export const BUILDER_SOURCES: readonly SourceSet[] = [
  { dir: path.join(SHARD_SRC, 'graph') },
  { dir: path.join(SHARD_SRC, 'weights') },
  { dir: MODEL_FILES_SRC, exclude: /tokenizer|special-tokens|hf-generation|progress|gguf-write|hf-to-gguf|gguf-quantize-file|^generated\// },
];

/** Tests, benchmarks and test helpers beside the code never reach a graph. */
const NOT_CODE = /\.(test|bench|test-helper)\.[jt]s$|\.d\.ts$/;
/** Sources (.ts) in a checkout, compiled modules (.js) in a build (scripts/build.mjs): either is the code. */
const CODE = /\.[jt]s$/;

/** sha256 (16 hex digits) over each source file's path (relative to its set) and contents, in a fixed order. */
export function hashSources(sets: readonly SourceSet[]): string {
  const hash = createHash('sha256');
  for (const [i, set] of sets.entries()) {
    // Subfolders count too (model families keep their graph code in graph/families/ and the like).
    const files = fs
      .readdirSync(set.dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && CODE.test(e.name) && !NOT_CODE.test(e.name))
      .map((e) => path.relative(set.dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .filter((rel) => !set.exclude?.test(rel))
      .sort();
    for (const name of files) {
      const text = fs.readFileSync(path.join(set.dir, name));
      hash.update(`${i}/${name}:${text.length}:`);
      hash.update(text);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

let builderHash: string | null = null;

/** The hash of BUILDER_SOURCES, computed once per process (a few ms). */
export function graphBuilderHash(): string {
  return (builderHash ??= hashSources(BUILDER_SOURCES));
}
