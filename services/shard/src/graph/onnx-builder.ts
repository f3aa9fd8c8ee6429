// @module A small typed builder over onnx-proto's static ModelProto schema, weights as external data.
import fs from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET_VERSION = 17;
/** IR version 8 is the one opset 17 pairs with. */
const IR_VERSION = 8;
/** External-data offsets are aligned so onnxruntime can memory-map them. */
const EXTERNAL_ALIGNMENT = 64 * 1024;

export type ElemType = 'float32' | 'int64';
/** A dimension: a fixed size or a symbolic name ("batch"). */
export type Dim = number | string;
/** Attribute values: integer, integer list, string, or a tagged float. */
export type AttrValue = number | number[] | string | { float: number };

const ELEM: Record<ElemType, number> = { float32: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64 };

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

function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
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
  return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
}

/** Builds one graph: declare inputs/outputs, add initializers and nodes, then encode. */
export class OnnxGraphBuilder {
  readonly #inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly #outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly #initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  readonly #nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  readonly #external: ExternalDataWriter;

  constructor(
    readonly graphName: string,
    external: ExternalDataWriter,
  ) {
    this.#external = external;
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
   * A float32 initializer stored in the external `.data` file (written immediately). With `shareKey`,
   * graphs built on the same writer store the data once (the first call's bytes are kept).
   */
  weight(name: string, data: Float32Array, dims: number[], shareKey?: string): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`weight ${name}: ${data.length} values for shape [${dims}]`);
    const reused = shareKey === undefined ? undefined : this.#external.shared.get(shareKey);
    const { offset, length } = reused ?? this.#external.append(bytesOf(data));
    if (shareKey !== undefined && reused === undefined) this.#external.shared.set(shareKey, { offset, length });
    this.#initializers.push(
      onnx.TensorProto.create({
        name: this.#claim(name),
        dims,
        dataType: ELEM.float32,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: this.#external.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(length) },
        ],
      }),
    );
    return name;
  }

  /** A small inline constant (shape vectors, scalars). */
  constant(elem: ElemType, values: number[], dims: number[] = [values.length]): string {
    const name = this.#claim(`const_${this.#counter++}`);
    const raw = elem === 'int64' ? new BigInt64Array(values.map((v) => BigInt(v))) : new Float32Array(values);
    this.#initializers.push(onnx.TensorProto.create({ name, dims, dataType: ELEM[elem], rawData: bytesOf(raw).slice() }));
    return name;
  }

  /** Adds a node with `outputCount` outputs; names are generated unless `outputs` are given. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string[] | number): string[] {
    const id = this.#counter++;
    const outs =
      typeof outputs === 'object'
        ? outputs.map((o) => this.#claim(o))
        : Array.from({ length: outputs ?? 1 }, (_, i) => this.#claim(`${op}_${id}_${i}`));
    this.#nodes.push(
      onnx.NodeProto.create({
        name: `${op}_${id}`,
        opType: op,
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
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
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
