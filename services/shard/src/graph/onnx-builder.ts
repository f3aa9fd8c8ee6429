// @module A small typed builder over onnx-proto's static ModelProto schema, weights as external data.
import fs from 'node:fs';
import onnxProto from 'onnx-proto';
import { f32ToF16Array } from '@tessera/model-files';

const { onnx } = onnxProto;

export const OPSET_VERSION = 17;
/** onnxruntime's own operators (RotaryEmbedding, …), which every provider Tessera uses implements. */
const CONTRIB_DOMAIN = 'com.microsoft';
const CONTRIB_PREFIX = `${CONTRIB_DOMAIN}.`;
/** IR version 8 is the one opset 17 pairs with. */
const IR_VERSION = 8;
/** External-data offsets are aligned so onnxruntime can memory-map them. */
const EXTERNAL_ALIGNMENT = 64 * 1024;

export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8';
/** Element types weights can be stored in. */
export type WeightType = 'float32' | 'float16';
/** A dimension: a fixed size or a symbolic name ("batch"). */
export type Dim = number | string;
/** A tensor written into the model itself (a small constant, an attribute's value). */
export interface InlineTensor {
  elem: ElemType;
  dims: number[];
  raw: Uint8Array;
}
/** Attribute values: integer, integer list, string, a tagged float, or a tagged tensor. */
export type AttrValue = number | number[] | string | { float: number } | { tensor: InlineTensor };

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  uint8: onnx.TensorProto.DataType.UINT8,
};

/** The ONNX TensorProto data type number of an element type (Cast's `to`). */
export function onnxTypeOf(elem: ElemType): number {
  return ELEM[elem];
}

/** Appends raw tensor bytes to one `.data` file and remembers where each landed. */
export class ExternalDataWriter {
  readonly #fd: number;
  #offset = 0;
  /** Ranges already written under a sharing key (tables several graphs of one build reference). */
  readonly shared = new Map<string, { offset: number; length: number }>();
  constructor(
    readonly path: string,
    /** File name recorded in the model (relative to the .onnx file). */
    readonly location: string,
  ) {
    this.#fd = fs.openSync(path, 'w');
  }
  append(bytes: Uint8Array): { offset: number; length: number } {
    const pad = (EXTERNAL_ALIGNMENT - (this.#offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
    if (pad > 0) fs.writeSync(this.#fd, new Uint8Array(pad));
    this.#offset += pad;
    const offset = this.#offset;
    let written = 0;
    while (written < bytes.byteLength) written += fs.writeSync(this.#fd, bytes, written);
    this.#offset += bytes.byteLength;
    return { offset, length: bytes.byteLength };
  }
  close(): void {
    fs.fsyncSync(this.#fd);
    fs.closeSync(this.#fd);
  }
}

function bytesOf(data: Float32Array | Uint16Array | BigInt64Array | Int32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfo(name: string, elem: ElemType, dims: Dim[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attribute(name: string, v: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (use { float })`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  }
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if ('tensor' in v) return onnx.AttributeProto.create({ name, type: T.TENSOR, t: inlineTensor('', v.tensor) });
  return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
}

function inlineTensor(name: string, t: InlineTensor): InstanceType<typeof onnx.TensorProto> {
  return onnx.TensorProto.create({ name, dims: t.dims, dataType: ELEM[t.elem], rawData: t.raw });
}

/**
 * Builds one graph: declare inputs/outputs, add initializers and nodes, then encode. Every ModelProto
 * Tessera writes comes from here (step graphs, probes, the device KV pools' zero graph).
 */
export class OnnxGraphBuilder {
  readonly #inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly #outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly #initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  readonly #nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  readonly #writer: ExternalDataWriter | null;

  constructor(
    readonly graphName: string,
    /** Where weights go; a graph without weights (a probe) needs none. */
    external: ExternalDataWriter | null = null,
    /** Element type of every `weight()` (float16 halves the data file and device memory). */
    readonly weightType: WeightType = 'float32',
  ) {
    this.#writer = external;
  }

  #claim(name: string): string {
    if (this.#names.has(name)) throw new Error(`duplicate ONNX value name ${name}`);
    this.#names.add(name);
    return name;
  }

  input(name: string, elem: ElemType, dims: Dim[]): string {
    this.#inputs.push(valueInfo(this.#claim(name), elem, dims));
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, elem: ElemType, dims: Dim[]): void {
    this.#outputs.push(valueInfo(name, elem, dims));
  }

  /**
   * An initializer of `weightType` stored in the external `.data` file (written immediately). With
   * `shareKey`, graphs built on the same writer store the data once (the first call's bytes are kept).
   */
  weight(name: string, data: Float32Array, dims: number[], shareKey?: string): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`weight ${name}: ${data.length} values for shape [${dims}]`);
    return this.#external(name, this.weightType, dims, shareKey, () => bytesOf(this.weightType === 'float16' ? f32ToF16Array(data) : data));
  }

  /** Raw bytes (quantized codes) as a uint8 initializer in the external data file; `shareKey` as for weight(). */
  bytesWeight(name: string, data: Uint8Array, dims: number[], shareKey?: string): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`weight ${name}: ${data.length} bytes for shape [${dims}]`);
    return this.#external(name, 'uint8', dims, shareKey, () => data);
  }

  #external(name: string, elem: ElemType, dims: number[], shareKey: string | undefined, bytes: () => Uint8Array): string {
    const writer = this.#writer;
    if (writer === null) throw new Error(`weight ${name}: graph ${this.graphName} has no external data file`);
    const reused = shareKey === undefined ? undefined : writer.shared.get(shareKey);
    const { offset, length } = reused ?? writer.append(bytes());
    if (shareKey !== undefined && reused === undefined) writer.shared.set(shareKey, { offset, length });
    this.#initializers.push(
      onnx.TensorProto.create({
        name: this.#claim(name),
        dims,
        dataType: ELEM[elem],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: writer.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(length) },
        ],
      }),
    );
    return name;
  }

  /** A small inline constant (shape vectors, scalars). */
  constant(elem: ElemType, values: number[], dims: number[] = [values.length]): string {
    const raw = elem === 'int64' ? new BigInt64Array(values.map((v) => BigInt(v))) : elem === 'int32' ? Int32Array.from(values) : new Float32Array(values);
    return this.inline(`const_${this.#counter++}`, { elem, dims, raw: bytesOf(raw).slice() });
  }

  /** An initializer stored in the model itself rather than the data file (small tensors, benchmarks). */
  inline(name: string, tensor: InlineTensor): string {
    this.#initializers.push(inlineTensor(this.#claim(name), tensor));
    return name;
  }

  /**
   * Adds a node with `outputCount` outputs; names are generated unless `outputs` are given. Operators
   * of onnxruntime's contrib domain are named `com.microsoft.Op`.
   */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string[] | number): string[] {
    const contrib = op.startsWith(CONTRIB_PREFIX);
    if (contrib) op = op.slice(CONTRIB_PREFIX.length);
    const id = this.#counter++;
    const outs =
      typeof outputs === 'object' ? outputs.map((o) => this.#claim(o)) : Array.from({ length: outputs ?? 1 }, (_, i) => this.#claim(`${op}_${id}_${i}`));
    this.#nodes.push(
      onnx.NodeProto.create({
        name: `${op}_${id}`,
        opType: op,
        ...(contrib ? { domain: CONTRIB_DOMAIN } : {}),
        input: inputs,
        output: outs,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs;
  }

  /** A single-output node. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.node(op, inputs, attrs, output === undefined ? 1 : [output])[0]!;
  }

  /** The encoded ModelProto (initializers refer to the external data file). */
  encode(producer = 'tessera'): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: producer,
      opsetImport: [
        { domain: '', version: OPSET_VERSION },
        { domain: CONTRIB_DOMAIN, version: 1 },
      ],
      graph: {
        name: this.graphName,
        input: this.#inputs,
        output: this.#outputs,
        initializer: this.#initializers,
        node: this.#nodes,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
