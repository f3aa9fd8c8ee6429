// @module Writes a generated model as a standard Hugging Face directory, atomically, and caches it by preset.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { generatedModelReadme } from './model-card.ts';
import { generatedModelConfig, hfConfigJson, resolveGeneratedSpec, type GeneratedModelOverrides, type GeneratedModelSpec } from './presets.ts';
import { writeSafetensorsF32 } from './safetensors-writer.ts';
import { generationConfigJson, tokenizerConfigJson } from './tokenizer-config.ts';
import { buildGeneratedTokenizer, GENERATED_SPECIAL_TOKENS } from './tokenizer-json.ts';
import { generateTensorData, generatedParameterCount, generatedTensorSpecs } from './weights.ts';

/** Bumped whenever the generator's output changes, so cached directories are never stale. */
export const GENERATED_FORMAT_VERSION = 2;
export const DEFAULT_GENERATED_SEED = 42;

/** The files every generated directory holds; a directory with all of them is complete. */
export const GENERATED_MODEL_FILES = [
  'config.json',
  'generation_config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
  'README.md',
] as const;

export interface WriteGeneratedModelOptions {
  /** 'tiny' (default), '50m' or 'tp4'. */
  preset?: string;
  seed?: number;
  overrides?: GeneratedModelOverrides;
  /** Human-readable progress lines (the launcher prints them). */
  onProgress?: (message: string) => void;
}

/** Writes the model into `dir` (replacing it if present) via a temp dir + rename; returns the absolute path. */
export async function writeGeneratedModel(dir: string, opts: WriteGeneratedModelOptions = {}): Promise<string> {
  const target = path.resolve(dir);
  const preset = opts.preset ?? 'tiny';
  const spec = resolveGeneratedSpec(preset, opts.overrides);
  const temp = await buildInTempDir(target, spec, preset, opts.seed ?? DEFAULT_GENERATED_SEED, opts.onProgress);
  try {
    await replaceDirectory(temp, target);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
  return target;
}

/** `<cacheRoot>/models/generated-<preset>-v<version>`. */
export function generatedModelDir(cacheRoot: string, preset = 'tiny'): string {
  return path.resolve(cacheRoot, 'models', `generated-${preset}-v${GENERATED_FORMAT_VERSION}`);
}

export function isCompleteGeneratedDir(dir: string): boolean {
  return GENERATED_MODEL_FILES.every((file) => existsSync(path.join(dir, file)));
}

/**
 * Returns the cached model directory for `preset` (default seed), building it only if absent.
 * Safe when several processes race: each builds in its own temp dir, the first rename wins and the
 * others discard their copy.
 */
export async function ensureGeneratedModel(cacheRoot: string, preset = 'tiny', opts: { onProgress?: (message: string) => void } = {}): Promise<string> {
  const spec = resolveGeneratedSpec(preset); // validates the name before it becomes a path
  const dir = generatedModelDir(cacheRoot, preset);
  if (isCompleteGeneratedDir(dir)) {
    opts.onProgress?.(`using cached generated model "${preset}" at ${dir}`);
    return dir;
  }
  const temp = await buildInTempDir(dir, spec, preset, DEFAULT_GENERATED_SEED, opts.onProgress);
  try {
    await fs.rename(temp, dir);
  } catch (error) {
    if (!isDirectoryTaken(error)) {
      await fs.rm(temp, { recursive: true, force: true });
      throw error;
    }
    if (isCompleteGeneratedDir(dir)) {
      await fs.rm(temp, { recursive: true, force: true }); // another process finished first
    } else {
      await replaceDirectory(temp, dir).catch(async (replaceError: unknown) => {
        await fs.rm(temp, { recursive: true, force: true });
        throw replaceError;
      });
    }
  }
  return dir;
}

async function buildInTempDir(target: string, spec: GeneratedModelSpec, preset: string, seed: number, onProgress?: (message: string) => void): Promise<string> {
  const started = performance.now();
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = await fs.mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.tmp-`));
  try {
    await fs.chmod(temp, 0o755); // mkdtemp makes it owner-only; the model dir should read like any other
    const bytes = await writeModelFiles(temp, spec, preset, seed, onProgress);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    onProgress?.(`generated model "${preset}" ready: ${(bytes / 1e6).toFixed(1)} MB in ${seconds} s (untrained test model)`);
    return temp;
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Writes all files into `dir`; returns the weight file's size. */
async function writeModelFiles(dir: string, spec: GeneratedModelSpec, preset: string, seed: number, onProgress?: (message: string) => void): Promise<number> {
  const parameterCount = generatedParameterCount(spec);
  onProgress?.(`generating untrained test model "${preset}" (${(parameterCount / 1e6).toFixed(1)} M parameters, vocab ${spec.vocabSize}, seed ${seed})`);
  const tokenizer = buildGeneratedTokenizer(spec.vocabSize);
  const config = hfConfigJson(spec, {
    preset,
    seed,
    formatVersion: GENERATED_FORMAT_VERSION,
    bosTokenId: GENERATED_SPECIAL_TOKENS.endOfText.id,
    eosTokenId: GENERATED_SPECIAL_TOKENS.imEnd.id,
  });
  const writeJson = (name: string, value: unknown, indent?: number) => fs.writeFile(path.join(dir, name), JSON.stringify(value, null, indent) + '\n');
  await writeJson('config.json', config, 2);
  await writeJson('generation_config.json', generationConfigJson(), 2);
  await writeJson('tokenizer_config.json', tokenizerConfigJson(spec.maxPositionEmbeddings), 2);
  await writeJson('tokenizer.json', tokenizer.tokenizerJson);
  const readme = generatedModelReadme(spec, {
    preset,
    seed,
    formatVersion: GENERATED_FORMAT_VERSION,
    architecture: generatedModelConfig(spec).architecture,
    parameterCount,
    mergeCount: tokenizer.mergeCount,
    reservedCount: tokenizer.reservedCount,
  });
  await fs.writeFile(path.join(dir, 'README.md'), readme);

  const tensors = generatedTensorSpecs(spec).map((t) => ({ ...t, data: () => generateTensorData(t, spec, seed) }));
  const metadata = { format: 'pt', tessera_generated: 'true', preset, seed: String(seed) };
  let reportedQuarter = 0;
  return writeSafetensorsF32(path.join(dir, 'model.safetensors'), tensors, metadata, (index, total) => {
    const quarter = Math.floor((4 * index) / total);
    if (parameterCount > 10e6 && quarter > reportedQuarter && quarter < 4) {
      reportedQuarter = quarter;
      onProgress?.(`writing model.safetensors: ${quarter * 25}% of tensors`);
    }
  });
}

function isDirectoryTaken(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'EPERM';
}

/** Moves `source` to `target`, first moving any existing `target` aside and deleting it afterwards. */
async function replaceDirectory(source: string, target: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(source, target);
      return;
    } catch (error) {
      if (!isDirectoryTaken(error) || attempt >= 5) throw error;
    }
    const aside = `${target}.old-${randomBytes(4).toString('hex')}`;
    try {
      await fs.rename(target, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // someone else moved it
    }
    await fs.rm(aside, { recursive: true, force: true });
  }
}
