// @module Where compiled step graphs are cached by default; apart from graph-cache.ts so that parsing a shard's flags (the launcher checks them all up front) does not load onnxruntime and the graph builders.
import os from 'node:os';
import path from 'node:path';

export function defaultGraphCacheDir(): string {
  return process.env.TESSERA_CACHE_DIR || path.join(os.homedir(), '.cache', 'tessera', 'graphs');
}
