// @module loadModel(path): an HF directory or a .gguf file → LoadedModel.

import fs from 'node:fs';
import path from 'node:path';
import { loadGgufModel } from './gguf-model.ts';
import { GGUF_MAGIC } from './gguf.ts';
import { loadHfDir } from './hf-dir.ts';
import { ModelLoadError, type LoadedModel } from './types.ts';

function startsWithGgufMagic(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const bytes = Buffer.alloc(4);
    return fs.readSync(fd, bytes, 0, 4, 0) === 4 && bytes.readUInt32LE(0) === GGUF_MAGIC;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Loads a model from a Hugging Face directory (or its config.json) or a GGUF file (by magic, whatever its
 * extension). Throws ModelLoadError naming the file and field for anything missing or unsupported.
 */
export async function loadModel(modelPath: string): Promise<LoadedModel> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(modelPath);
  } catch {
    throw new ModelLoadError(modelPath, 'does not exist (expected a model directory or a .gguf file)');
  }
  if (stat.isDirectory()) return loadHfDir(modelPath);
  if (startsWithGgufMagic(modelPath)) return loadGgufModel(modelPath);
  if (path.basename(modelPath) === 'config.json') return loadHfDir(path.dirname(modelPath));
  throw new ModelLoadError(path.basename(modelPath), 'is neither a model directory nor a GGUF file');
}
