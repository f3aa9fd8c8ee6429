// @module The graph builder's weights: float32 as given, float16 as IEEE half bit patterns, both readable by onnxruntime.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { f16BitsToF32, f32ToF16Bits } from '@tessera/model-files';
import { ExternalDataWriter, OnnxGraphBuilder, onnxTypeOf, type WeightType } from './onnx-builder.ts';

const { onnx } = onnxProto;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-builder-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A graph whose output is its one weight, cast to float32. */
function build(weightType: WeightType, values: number[]): { onnxPath: string; dataPath: string } {
  const dataPath = path.join(dir, `${weightType}.data`);
  const writer = new ExternalDataWriter(dataPath, `${weightType}.data`);
  const b = new OnnxGraphBuilder('w', writer, weightType);
  const w = b.weight('w', Float32Array.from(values), [values.length]);
  b.op('Cast', [w], { to: onnxTypeOf('float32') }, 'y');
  b.output('y', 'float32', [values.length]);
  writer.close();
  const onnxPath = path.join(dir, `${weightType}.onnx`);
  fs.writeFileSync(onnxPath, b.encode());
  return { onnxPath, dataPath };
}

const values = [1, -2, 0.1, 1e-7, 70000];

test('float16 weights are stored as half bit patterns (round to nearest, overflow to Inf) with type FLOAT16', async () => {
  const { onnxPath, dataPath } = build('float16', values);
  const model = onnx.ModelProto.decode(fs.readFileSync(onnxPath));
  const init = model.graph!.initializer![0]!;
  assert.equal(init.dataType, onnx.TensorProto.DataType.FLOAT16);
  const bytes = fs.readFileSync(dataPath);
  const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, values.length);
  assert.deepEqual([...bits], values.map(f32ToF16Bits));
  const session = await ort.InferenceSession.create(onnxPath);
  const y = (await session.run({})).y!.data as Float32Array;
  // onnxruntime reads back exactly the half values (1e-7 is a subnormal half: 2 × 2⁻²⁴).
  assert.deepEqual(
    [...y],
    values.map((v) => f16BitsToF32(f32ToF16Bits(v))),
  );
  assert.deepEqual([y[0], y[1], y[3], y[4]], [1, -2, 2 * 2 ** -24, Infinity]);
  assert.ok(Math.abs(y[2]! - 0.1) < 1e-4);
  await session.release();
});

test('float32 weights are stored as given', async () => {
  const { onnxPath } = build('float32', values);
  const session = await ort.InferenceSession.create(onnxPath);
  assert.deepEqual([...((await session.run({})).y!.data as Float32Array)], [...Float32Array.from(values)]);
  await session.release();
});

test('contrib operators are written in the com.microsoft domain', () => {
  const writer = new ExternalDataWriter(path.join(dir, 'c.data'), 'c.data');
  const b = new OnnxGraphBuilder('c', writer);
  b.input('x', 'float32', [1, 2, 8]);
  b.op('com.microsoft.RotaryEmbedding', ['x'], { num_heads: 1 }, 'y');
  writer.close();
  const node = onnx.ModelProto.decode(b.encode()).graph!.node![0]!;
  assert.deepEqual([node.opType, node.domain], ['RotaryEmbedding', 'com.microsoft']);
});

test('a graph without a data file: inline initializers, int32 inputs and a tensor attribute run; weight() refuses', async () => {
  const b = new OnnxGraphBuilder('small');
  b.input('shape', 'int64', [2]);
  b.input('n', 'int32', [1]);
  const zeros = b.op('ConstantOfShape', ['shape'], { value: { tensor: { elem: 'float32', dims: [1], raw: new Uint8Array(Float32Array.of(0.5).buffer) } } });
  const bias = b.inline('bias', { elem: 'float32', dims: [3], raw: new Uint8Array(Float32Array.of(1, 2, 3).buffer) });
  b.op('Add', [zeros, bias], {}, 'y');
  b.op('Cast', ['n'], { to: onnxTypeOf('float32') }, 'm');
  b.output('y', 'float32', [2, 3]);
  b.output('m', 'float32', [1]);
  assert.throws(() => b.weight('w', Float32Array.of(1), [1]), /graph small has no external data file/);
  const session = await ort.InferenceSession.create(b.encode());
  const out = await session.run({ shape: new ort.Tensor('int64', BigInt64Array.of(2n, 3n), [2]), n: new ort.Tensor('int32', Int32Array.of(7), [1]) });
  assert.deepEqual([...(out.y!.data as Float32Array)], [1.5, 2.5, 3.5, 1.5, 2.5, 3.5]);
  assert.deepEqual([...(out.m!.data as Float32Array)], [7]);
  await session.release();
});
