// @module --quantize int4 / int8 on ../shared's F32 GGUF against llama.cpp's own Q4_0 / Q8_0 files of it: the same rounding in float32, so the same codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { f16BitsToF32, f32ToF16Bits } from './float16.ts';
import { loadGgufModel } from './gguf-model.ts';
import { withLoadTimeQuantization } from './load-time-quantization.ts';

const dir = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'models', 'quantized');
const LINEAR = /_proj\.weight$/;

for (const [mode, type] of [
  ['int4', 'Q4_0'],
  ['int8', 'Q8_0'],
] as const) {
  test(`--quantize ${mode} reproduces llama-quantize's ${type} codes and (f16-rounded) scales on every Linear weight`, async (t) => {
    if (!fs.existsSync(path.join(dir, 'small-F32.gguf'))) return t.skip('../shared/models/quantized not present');
    const ours = withLoadTimeQuantization(await loadGgufModel(path.join(dir, 'small-F32.gguf')), mode);
    const theirs = await loadGgufModel(path.join(dir, `small-${type}.gguf`));
    let codes = 0;
    let differing = 0;
    for (const name of ours.tensorNames().filter((n) => LINEAR.test(n))) {
      assert.equal(theirs.tensorType!(name), type, name);
      const a = ours.quantized!(name)!;
      const b = theirs.quantized!(name)!;
      assert.deepEqual([a.bits, a.blockSize, a.rows, a.cols], [b.bits, b.blockSize, b.rows, b.cols], name);
      // llama.cpp stores d as f16 after choosing the codes with the float32 d: ours rounded to f16 is theirs.
      a.scales.forEach((s, i) => assert.equal(f16BitsToF32(f32ToF16Bits(s)), b.scales[i], `${name} block ${i}`));
      codes += a.codes.length;
      for (let i = 0; i < a.codes.length; i++) if (a.codes[i] !== b.codes[i]) differing++;
    }
    assert.equal(differing, 0, `${differing} of ${codes} codes differ from llama.cpp's`);
    t.diagnostic(`all ${codes} codes equal llama.cpp's`);
  });
}
