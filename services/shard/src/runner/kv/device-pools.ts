// @module KV pools that stay on the accelerator: per layer [slots, kvH, D] tensors that the step graph updates in place.
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../../graph/onnx-builder.ts';
import { type KvGeometry, PoolShape } from '../kv-cache.ts';
import { sessionOptionsFor, type Device } from '../execution-provider.ts';

/**
 * The step graph's `device` KV layout: one [numBlocks · blockSize, kvH, D] tensor per layer for K and
 * for V. On WebGPU they are GPU buffers that never come back to the host: the runner feeds them as
 * k/v_cache_l and binds the same tensors as the k/v_cache_out_l outputs, so ScatterND writes the new
 * rows in place. On the CPU (tests of this layout) they are plain typed arrays.
 */
export class DeviceKvCache extends PoolShape {
  private constructor(
    geometry: KvGeometry,
    numBlocks: number,
    readonly k: ort.Tensor[],
    readonly v: ort.Tensor[],
    /** The session whose provider allocated the GPU buffers: it must outlive them (releasing it first crashes). */
    readonly owner: ort.InferenceSession | null,
  ) {
    super(geometry, numBlocks);
  }

  static async create(geometry: KvGeometry, numBlocks: number, device: Device, deviceId: number): Promise<DeviceKvCache> {
    const slots = numBlocks * geometry.blockSize;
    const dims = [slots, geometry.numKvHeads, geometry.headDim];
    const k: ort.Tensor[] = [];
    const v: ort.Tensor[] = [];
    if (device === 'webgpu') {
      // A GPU tensor can only come out of a session run: a one-node graph produces zeroed pools there.
      const zeros = await ort.InferenceSession.create(zeroPoolGraph(geometry), {
        ...sessionOptionsFor(device, deviceId),
        preferredOutputLocation: 'gpu-buffer',
      });
      const shape = new ort.Tensor('int64', BigInt64Array.from(dims.map(BigInt)), [3]);
      try {
        for (let l = 0; l < geometry.numLayers; l++) {
          k.push((await zeros.run({ shape })).pool!);
          v.push((await zeros.run({ shape })).pool!);
        }
      } catch (err) {
        for (const t of [...k, ...v]) t.dispose();
        await zeros.release();
        throw err;
      }
      return new DeviceKvCache(geometry, numBlocks, k, v, zeros);
    } else {
      const floats = dims.reduce((a, b) => a * b, 1);
      const tensor = () =>
        geometry.dtype === 'float16' ? new ort.Tensor('float16', new Uint16Array(floats), dims) : new ort.Tensor('float32', new Float32Array(floats), dims);
      for (let l = 0; l < geometry.numLayers; l++) {
        k.push(tensor());
        v.push(tensor());
      }
    }
    return new DeviceKvCache(geometry, numBlocks, k, v, null);
  }

  /** Frees the device buffers now rather than at garbage collection, then their allocator's session. */
  async dispose(): Promise<void> {
    for (const t of [...this.k, ...this.v]) if (t.location === 'gpu-buffer') t.dispose();
    await this.owner?.release();
  }
}

/** shape [3] (int64) → pool: zeros of the pool's element type. */
function zeroPoolGraph(g: KvGeometry): Uint8Array {
  const dtype = g.dtype ?? 'float32';
  const b = new OnnxGraphBuilder('tessera_zero_pool');
  b.input('shape', 'int64', [3]);
  b.op('ConstantOfShape', ['shape'], { value: { tensor: { elem: dtype, dims: [1], raw: new Uint8Array(dtype === 'float16' ? 2 : 4) } } }, 'pool');
  b.output('pool', dtype, ['slots', g.numKvHeads, g.headDim]);
  return b.encode();
}
