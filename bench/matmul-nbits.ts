// @module `node --import tsx bench/matmul-nbits.ts [K N]`: one linear layer as float32 Gemm vs onnxruntime's MatMulNBits
// (4/8-bit, accuracy_level 0/4, no / uint8 / float zero points), alternating, median ms per run. Why block-affine.ts
// carries block minimums as offsets rather than MatMulNBits' float zero points (docs/quantization.md).
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const [K, N] = [Number(process.argv[2] ?? 2048), Number(process.argv[3] ?? 8192)];
const BLOCK = 32;
const nb = K / BLOCK;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const UINT8 = onnx.TensorProto.DataType.UINT8;

interface Variant { name: string; bits?: 4 | 8; accuracy?: 0 | 4; zeroPoints?: 'none' | 'uint8' | 'float' }
const VARIANTS: Variant[] = [
  { name: 'float32 Gemm' },
  { name: '4-bit, no zero points, acc 0', bits: 4, accuracy: 0 },
  { name: '4-bit, no zero points, acc 4 (int8 activations)', bits: 4, accuracy: 4 },
  { name: '4-bit, uint8 zero points, acc 4', bits: 4, accuracy: 4, zeroPoints: 'uint8' },
  { name: '4-bit, float zero points, acc 4', bits: 4, accuracy: 4, zeroPoints: 'float' },
  { name: '8-bit, no zero points, acc 0', bits: 8, accuracy: 0 },
  { name: '8-bit, no zero points, acc 4 (int8 activations)', bits: 8, accuracy: 4 },
];

function tensor(name: string, dataType: number, dims: number[], raw: Uint8Array) {
  return onnx.TensorProto.create({ name, dataType, dims, rawData: raw });
}
const floats = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.01).buffer);
const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);

function model(v: Variant): Uint8Array {
  const initializer = [];
  let node;
  if (!v.bits) {
    initializer.push(tensor('w', FLOAT, [N, K], floats(N * K)));
    node = onnx.NodeProto.create({ opType: 'Gemm', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] });
  } else {
    const inputs = ['x', 'b', 's'];
    initializer.push(tensor('b', UINT8, [N, nb, (BLOCK * v.bits) / 8], bytes((N * K * v.bits) / 8)), tensor('s', FLOAT, [N * nb], floats(N * nb)));
    if (v.zeroPoints === 'uint8') initializer.push(tensor('z', UINT8, [Math.ceil((N * nb) / 2)], bytes(Math.ceil((N * nb) / 2))));
    if (v.zeroPoints === 'float') initializer.push(tensor('z', FLOAT, [N * nb], floats(N * nb)));
    if (v.zeroPoints && v.zeroPoints !== 'none') inputs.push('z');
    const int = (name: string, i: number) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
    node = onnx.NodeProto.create({ opType: 'MatMulNBits', domain: 'com.microsoft', input: inputs, output: ['y'], attribute: [int('K', K), int('N', N), int('bits', v.bits), int('block_size', BLOCK), int('accuracy_level', v.accuracy ?? 0)] });
  }
  const io = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    graph: { name: 'g', node: [node], initializer, input: [io('x', ['m', K])], output: [io('y', ['m', N])] },
  })).finish();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const threads = Number(process.env.THREADS ?? 2);
const sessions = await Promise.all(VARIANTS.map(async (v) => {
  try {
    return await ort.InferenceSession.create(model(v), { intraOpNumThreads: threads, interOpNumThreads: 1, ...(process.env.NOPACK ? { extra: { session: { disable_prepacking: '1' } } } : {}) });
  } catch (err) {
    return (err as Error).message.split('\n')[0]!;
  }
}));
console.log(`K = ${K}, N = ${N}, block ${BLOCK}, ${threads} threads; median ms per run, variants alternating`);
for (const m of [1, 8, 32]) {
  const x = new ort.Tensor('float32', Float32Array.from({ length: m * K }, (_, i) => Math.cos(i)), [m, K]);
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
