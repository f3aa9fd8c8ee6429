// @module Builds the step graph + external weights once per (model, rank, world, dtype, ORT, builder code) and reuses it.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import * as ort from 'onnxruntime-node';
import { createProgress, type LoadedModel } from '@tessera/model-files';
import { parallelPlan } from '../weights/shard-weights.ts';
import { graphBuilderHash } from './builder-hash.ts';
import { buildLlamaStepGraph, DEFAULT_GRAPH_OPTIONS, type StepGraphOptions } from './llama.ts';
import { buildLlamaSegments } from './llama-segments.ts';
import { ExternalDataWriter, OnnxGraphBuilder } from './onnx-builder.ts';

const GRAPH_FILE = 'model.onnx';
const DATA_FILE = 'model.onnx.data';
const META_FILE = 'meta.json';

export interface GraphCacheOptions {
  cacheDir: string;
  rank: number;
  worldSize: number;
  /** Compute type and KV layout (default float32, host-resident KV). */
  graph?: StepGraphOptions;
  logger?: Logger;
}

export interface CachedGraph {
  /** Path of the .onnx file (its weights lie beside it); world size > 1: the first segment. */
  onnxPath: string;
  /** The graphs of one step in run order: [onnxPath] at world size 1, else the rank's segments. */
  segmentPaths: string[];
  /** True when an existing build was reused. */
  reused: boolean;
}

/** `--cache-dir` default: $TESSERA_CACHE_DIR or ~/.cache/tessera/graphs. */
export { defaultGraphCacheDir } from './cache-dir.ts';

/**
 * What a built graph depends on: the model, the rank's slice, the graph options, onnxruntime, and the
 * builder's own code (a hash of its sources, so no version number needs bumping by hand).
 */
export function graphCacheKey(model: LoadedModel, opts: Pick<GraphCacheOptions, 'rank' | 'worldSize' | 'graph'>, builderHash: string = graphBuilderHash()) {
  const graph = opts.graph ?? DEFAULT_GRAPH_OPTIONS;
  return {
    digest: model.digest,
    rank: opts.rank,
    worldSize: opts.worldSize,
    dtype: graph.dtype,
    kvLayout: graph.kvLayout,
    quantAccuracy: graph.quantAccuracy ?? 'int8',
    ortVersion: ort.env.versions.node ?? ort.env.versions.common,
    builderHash,
  };
}

/** Returns the cached graph for this model and rank, building it (with progress logs) when absent. */
export function ensureStepGraph(model: LoadedModel, opts: GraphCacheOptions): CachedGraph {
  // Fails early, naming the dimension, when the model cannot be split over this world size.
  const plan = parallelPlan(model.config, opts.rank, opts.worldSize);
  const graph = opts.graph ?? DEFAULT_GRAPH_OPTIONS;
  if (opts.worldSize > 1 && graph.kvLayout !== 'host') {
    throw new Error(`tensor parallelism (world size ${opts.worldSize}) runs with host-resident KV only; got ${graph.kvLayout} KV`);
  }
  const key = graphCacheKey(model, opts);
  const id = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
  const dir = path.join(opts.cacheDir, id);
  const onnxPath = path.join(dir, GRAPH_FILE);
  const metaPath = path.join(dir, META_FILE);
  if (fs.existsSync(metaPath)) {
    opts.logger?.info({ dir }, 'graph cache hit');
    return { onnxPath, segmentPaths: segmentPathsOf(dir), reused: true };
  }

  fs.mkdirSync(opts.cacheDir, { recursive: true });
  const tmp = path.join(opts.cacheDir, `${id}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp);
  const started = Date.now();
  try {
    const writer = new ExternalDataWriter(path.join(tmp, DATA_FILE), DATA_FILE);
    const layers = model.config.numLayers;
    let progress: ReturnType<typeof createProgress> | null = null;
    let segments: string[];
    if (opts.worldSize === 1) {
      const builder = new OnnxGraphBuilder('tessera_step', writer, graph.dtype);
      const onProgress = (done: number, total: number) => {
        const what = done === 1 ? 'embeddings' : done === total ? 'head' : `layer ${done - 1}/${layers}`;
        progress ??= createProgress({ label: 'building graph', total, logger: opts.logger, logEveryMs: 0 });
        progress.update(done, what);
      };
      buildLlamaStepGraph(builder, model, onProgress, graph);
      fs.writeFileSync(path.join(tmp, GRAPH_FILE), builder.encode());
      segments = [GRAPH_FILE];
    } else {
      const built = buildLlamaSegments(
        writer,
        model,
        plan,
        (done, total) => {
          progress ??= createProgress({ label: `building rank ${opts.rank}/${opts.worldSize} segments`, total, logger: opts.logger, logEveryMs: 0 });
          progress.update(done, `segment ${done}/${total}`);
        },
        graph.dtype,
        graph.quantAccuracy,
      );
      // The first segment keeps the world-1 graph's name, so onnxPath stays meaningful.
      segments = built.map((seg, i) =>
        i === 0 ? GRAPH_FILE : `seg${String(i).padStart(3, '0')}_${seg.kind}${seg.kind === 'attention' || seg.kind === 'mlp' ? seg.layer : ''}.onnx`,
      );
      built.forEach((seg, i) => fs.writeFileSync(path.join(tmp, segments[i]!), seg.builder.encode()));
    }
    (progress as ReturnType<typeof createProgress> | null)?.finish();
    writer.close();
    fs.writeFileSync(path.join(tmp, META_FILE), JSON.stringify({ key, plan, segments, config: model.config, builtAt: new Date().toISOString() }, null, 1));
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
  opts.logger?.info({ dir, ms: Date.now() - started, dtype: graph.dtype, kvLayout: graph.kvLayout }, 'graph built');
  return { onnxPath, segmentPaths: segmentPathsOf(dir), reused: false };
}

/** Bytes of a build's weights (one data file for all of a rank's segments): what the session holds. */
export function graphWeightBytes(graph: CachedGraph): number {
  return fs.statSync(path.join(path.dirname(graph.onnxPath), DATA_FILE)).size;
}

/** The step's graphs listed in a build's meta.json, in run order. */
function segmentPathsOf(dir: string): string[] {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, META_FILE), 'utf8')) as { segments?: string[] };
  return (meta.segments ?? [GRAPH_FILE]).map((f) => path.join(dir, f));
}
