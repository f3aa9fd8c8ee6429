// @module `tessera quantize IN OUT.gguf TYPE`: a quantized GGUF from a float GGUF (llama-quantize's role) or from an HF directory.
import fs from 'node:fs';
import path from 'node:path';
import { GGUF_QUANT_PRESETS, type GgufQuantPreset, loadModel, quantizeGgufFile, writeModelAsGguf } from '@tessera/model-files';

const USAGE = `usage: tessera quantize IN.gguf|HF_DIR OUT.gguf TYPE

TYPE: ${GGUF_QUANT_PRESETS.join(' | ')} (and F32 from an HF directory: conversion only)
  An HF directory (Llama/Mistral/Qwen2 with a byte-level BPE tokenizer) is converted as llama.cpp's
  convert_hf_to_gguf.py lays it out (Q/K rows permuted for llama), then quantized.
  Every 2-D float tensor is encoded as TYPE (Q4_K_M: Q6_K for the output head, attn_v and ffn_down,
  Q4_K for the rest); rows that are not whole blocks fall back to Q4_0/Q8_0 or stay float. Metadata is
  copied as is. Q4_0 and Q8_0 give llama-quantize's bytes; Q4_K/Q6_K use round-to-nearest scales
  (a little more error than llama-quantize's searched ones). docs/quantization.md`;

export async function quantizeCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const [src, dst, type, ...extra] = argv;
  if (!src || !dst || !type || extra.length > 0) {
    console.error(`tessera quantize: expected IN.gguf OUT.gguf TYPE\n\n${USAGE}`);
    return 2;
  }
  const fromDir = fs.existsSync(src) && fs.statSync(src).isDirectory();
  if (!(GGUF_QUANT_PRESETS as readonly string[]).includes(type) && !(fromDir && type === 'F32')) {
    console.error(`tessera quantize: TYPE "${type}" is not one of ${GGUF_QUANT_PRESETS.join(', ')}`);
    return 2;
  }
  if (path.resolve(src) === path.resolve(dst)) {
    console.error('tessera quantize: OUT.gguf must differ from IN.gguf');
    return 2;
  }
  try {
    const started = Date.now();
    const progress = (name: string, index: number, total: number) => {
      if (index % 16 === 0 || index === total - 1) console.error(`quantize: ${index + 1}/${total} ${name}`);
    };
    const result = fromDir
      ? { types: writeModelAsGguf(await loadModel(src), dst, type as GgufQuantPreset | 'F32', progress), bytes: 0 }
      : quantizeGgufFile(src, dst, type as GgufQuantPreset, progress);
    result.bytes = fs.statSync(dst).size;
    const counts = new Map<string, number>();
    for (const t of Object.values(result.types)) counts.set(t, (counts.get(t) ?? 0) + 1);
    console.error(
      `quantize: wrote ${dst} (${(result.bytes / 2 ** 20).toFixed(1)} MiB, ${[...counts].map(([t, n]) => `${t}×${n}`).join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return 0;
  } catch (err) {
    console.error(`tessera quantize: ${(err as Error).message}`);
    return 1;
  }
}
