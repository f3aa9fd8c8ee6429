// @module `tessera quantize IN OUT.gguf TYPE`: a quantized GGUF from a float GGUF (llama-quantize's role) or from an HF directory.
import fs from 'node:fs';
import path from 'node:path';
import { GGUF_QUANT_PRESETS, type GgufQuantPreset, loadModel, quantizeGgufFile, writeModelAsGguf } from '@tessera/model-files';
import { type CommandSpec, formatHelp, parseCommand, UsageError } from '@tessera/options';

export const QUANTIZE_COMMAND: CommandSpec = {
  name: 'quantize',
  synopsis: 'IN.gguf|HF_DIR OUT.gguf TYPE',
  summary: `Writes a quantized GGUF. TYPE: ${GGUF_QUANT_PRESETS.join(' | ')} (and F32 from an HF directory: conversion only).
An HF directory (Llama/Mistral/Qwen2 and the other supported families) is converted as llama.cpp's
convert_hf_to_gguf.py lays it out (Q/K rows permuted for llama), then quantized. Every 2-D float
tensor is encoded as TYPE (Q4_K_M: Q6_K for the output head, attn_v and ffn_down, Q4_K for the
rest); rows that are not whole blocks fall back to Q4_0/Q8_0 or stay float. Metadata is copied as
is. Q4_0 and Q8_0 give llama-quantize's bytes; Q4_K/Q6_K use round-to-nearest scales (a little more
error than llama-quantize's searched ones). docs/quantization.md`,
  options: {
    input: { type: 'string', value: 'PATH', help: 'float GGUF or HF directory to read (or the first argument)', env: false },
    output: { type: 'string', value: 'PATH', help: 'GGUF to write (or the second argument)', env: false },
    type: { type: 'string', value: 'TYPE', help: `${GGUF_QUANT_PRESETS.join(' | ')} (or the third argument)`, env: false },
  },
  positionals: [
    { name: 'IN', option: 'input' },
    { name: 'OUT', option: 'output' },
    { name: 'TYPE', option: 'type' },
  ],
};

/** The checked command line: paths and type, or a UsageError. */
function parseQuantizeArgs(argv: readonly string[]): { src: string; dst: string; type: string; fromDir: boolean } | 'help' {
  const { values, help } = parseCommand(QUANTIZE_COMMAND, argv);
  if (help) return 'help';
  const [src, dst, type] = [values.get('input'), values.get('output'), values.get('type')];
  if (!src || !dst || !type) throw new UsageError(`expected IN.gguf|HF_DIR OUT.gguf TYPE; see 'tessera quantize --help'`);
  const fromDir = fs.existsSync(src) && fs.statSync(src).isDirectory();
  if (!(GGUF_QUANT_PRESETS as readonly string[]).includes(type) && !(fromDir && type === 'F32')) {
    throw new UsageError(`TYPE "${type}" is not one of ${GGUF_QUANT_PRESETS.join(', ')}`);
  }
  if (path.resolve(src) === path.resolve(dst)) throw new UsageError('OUT.gguf must differ from IN.gguf');
  return { src, dst, type, fromDir };
}

export async function quantizeCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseQuantizeArgs>;
  try {
    parsed = parseQuantizeArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tessera quantize: ${err.message}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(formatHelp(QUANTIZE_COMMAND));
    return 0;
  }
  const { src, dst, type, fromDir } = parsed;
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
