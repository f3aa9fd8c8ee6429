// @module Builds the step graph + external weights once per (model, rank, world, dtype, ORT, builder) and reuses it.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from '@tessera/model-files';
import { buildLlamaStepGraph } from './llama.ts';
import { ExternalDataWriter, OnnxGraphBuilder } from './onnx-builder.ts';

/** Bump whenever the generated graph changes meaning or layout. */
export const GRAPH_BUILDER_VERSION = 2;
const GRAPH_FILE = 'model.onnx';
const DATA_FILE = 'model.onnx.data';
const META_FILE = 'meta.json';

export interface GraphCacheOptions {
  cacheDir: string;
  rank: number;
  worldSize: number;
  logger?: Logger;
}

export interface CachedGraph {
  /** Path of the .onnx file (its weights lie beside it). */
  onnxPath: string;
  /** True when an existing build was reused. */
  reused: boolean;
}

/** `--cache-dir` default: $TESSERA_CACHE_DIR or ~/.cache/tessera/graphs. */
export function defaultGraphCacheDir(): string {
  return process.env.TESSERA_CACHE_DIR || path.join(os.homedir(), '.cache', 'tessera', 'graphs');
}

export function graphCacheKey(model: LoadedModel, opts: Pick<GraphCacheOptions, 'rank' | 'worldSize'>) {
  return {
    digest: model.digest,
    rank: opts.rank,
    worldSize: opts.worldSize,
    dtype: 'float32',
    ortVersion: ort.env.versions.node ?? ort.env.versions.common,
    builderVersion: GRAPH_BUILDER_VERSION,
  };
}

/** Returns the cached graph for this model and rank, building it (with progress logs) when absent. */
export function ensureStepGraph(model: LoadedModel, opts: GraphCacheOptions): CachedGraph {
  if (opts.worldSize !== 1 || opts.rank !== 0) {
    throw new Error(`tensor parallelism is not implemented in this shard yet (rank ${opts.rank}, world size ${opts.worldSize})`);
  }
  const key = graphCacheKey(model, opts);
  const id = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
  const dir = path.join(opts.cacheDir, id);
  const onnxPath = path.join(dir, GRAPH_FILE);
  if (fs.existsSync(path.join(dir, META_FILE))) {
    opts.logger?.info({ dir }, 'graph cache hit');
    return { onnxPath, reused: true };
  }

  fs.mkdirSync(opts.cacheDir, { recursive: true });
  const tmp = path.join(opts.cacheDir, `${id}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp);
  const started = Date.now();
  try {
    const writer = new ExternalDataWriter(path.join(tmp, DATA_FILE), DATA_FILE);
    const builder = new OnnxGraphBuilder('tessera_step', writer);
    const layers = model.config.numLayers;
    buildLlamaStepGraph(builder, model, (done, total) => {
      const what = done === 1 ? 'embeddings' : done === total ? 'head' : `layer ${done - 1}/${layers}`;
      opts.logger?.info({ done, total }, `building graph: ${what}`);
    });
    writer.close();
    fs.writeFileSync(path.join(tmp, GRAPH_FILE), builder.encode());
    fs.writeFileSync(path.join(tmp, META_FILE), JSON.stringify({ key, config: model.config, builtAt: new Date().toISOString() }, null, 1));
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Another process finished the same build first: use theirs.
      if (!fs.existsSync(path.join(dir, META_FILE))) throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  opts.logger?.info({ dir, ms: Date.now() - started }, 'graph built');
  return { onnxPath, reused: false };
}
