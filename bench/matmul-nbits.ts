// @module `node --import tsx bench/matmul-nbits.ts [K N]`: one linear layer as float32 Gemm vs onnxruntime's MatMulNBits
// (4/8-bit, accuracy_level 0/4, no / uint8 / float zero points), alternating, median ms per run. Why block-affine.ts
// carries block minimums as offsets rather than MatMulNBits' float zero points (docs/quantization.md).
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../services/shard/src/graph/onnx-builder.ts';

const [K, N] = [Number(process.argv[2] ?? 2048), Number(process.argv[3] ?? 8192)];
const BLOCK = 32;
const nb = K / BLOCK;

interface Variant {
  name: string;
  bits?: 4 | 8;
  accuracy?: 0 | 4;
  zeroPoints?: 'none' | 'uint8' | 'float';
}
const VARIANTS: Variant[] = [
  { name: 'float32 Gemm' },
  { name: '4-bit, no zero points, acc 0', bits: 4, accuracy: 0 },
  { name: '4-bit, no zero points, acc 4 (int8 activations)', bits: 4, accuracy: 4 },
  { name: '4-bit, uint8 zero points, acc 4', bits: 4, accuracy: 4, zeroPoints: 'uint8' },
  { name: '4-bit, float zero points, acc 4', bits: 4, accuracy: 4, zeroPoints: 'float' },
  { name: '8-bit, no zero points, acc 0', bits: 8, accuracy: 0 },
  { name: '8-bit, no zero points, acc 4 (int8 activations)', bits: 8, accuracy: 4 },
];

const floats = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.01).buffer);
const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);

function model(v: Variant): Uint8Array {
  const b = new OnnxGraphBuilder('g');
  b.input('x', 'float32', ['m', K]);
  if (!v.bits) {
    b.inline('w', { elem: 'float32', dims: [N, K], raw: floats(N * K) });
    b.op('Gemm', ['x', 'w'], { transB: 1 }, 'y');
  } else {
    const inputs = [
      b.inline('b', { elem: 'uint8', dims: [N, nb, (BLOCK * v.bits) / 8], raw: bytes((N * K * v.bits) / 8) }),
      b.inline('s', { elem: 'float32', dims: [N * nb], raw: floats(N * nb) }),
    ];
    if (v.zeroPoints === 'uint8') inputs.push(b.inline('z', { elem: 'uint8', dims: [Math.ceil((N * nb) / 2)], raw: bytes(Math.ceil((N * nb) / 2)) }));
    if (v.zeroPoints === 'float') inputs.push(b.inline('z', { elem: 'float32', dims: [N * nb], raw: floats(N * nb) }));
    b.op('com.microsoft.MatMulNBits', ['x', ...inputs], { K, N, bits: v.bits, block_size: BLOCK, accuracy_level: v.accuracy ?? 0 }, 'y');
  }
  b.output('y', 'float32', ['m', N]);
  return b.encode();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const threads = Number(process.env.THREADS ?? 2);
const sessions = await Promise.all(
  VARIANTS.map(async (v) => {
    try {
      return await ort.InferenceSession.create(model(v), {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        ...(process.env.NOPACK ? { extra: { session: { disable_prepacking: '1' } } } : {}),
      });
    } catch (err) {
      return (err as Error).message.split('\n')[0]!;
    }
  }),
);
console.log(`K = ${K}, N = ${N}, block ${BLOCK}, ${threads} threads; median ms per run, variants alternating`);
for (const m of [1, 8, 32]) {
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: m * K }, (_, i) => Math.cos(i)),
    [m, K],
  );
  const times: number[][] = VARIANTS.map(() => []);
  for (let round = 0; round < 12; round++) {
    for (const [i, s] of sessions.entries()) {
      if (typeof s === 'string') continue;
      const t0 = performance.now();
      await s.run({ x });
      if (round >= 2) times[i]!.push(performance.now() - t0);
    }
  }
  console.log(`\nM = ${m}`);
  VARIANTS.forEach((v, i) => console.log(`  ${v.name.padEnd(50)} ${typeof sessions[i] === 'string' ? `fails: ${sessions[i]}` : median(times[i]!).toFixed(2)}`));
}
