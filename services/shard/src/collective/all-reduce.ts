// @module Collectives over framed links: sum all-reduce (an exchange at 2 ranks, a star around rank 0 above), broadcast, gather to rank 0.
import { asFloat32, asInt32, FrameKind } from './framing.ts';
import { CollectiveError } from '../errors.ts';
import type { Link } from './transport.ts';

/**
 * The connections one rank uses: on rank 0 one per other rank (index = rank, index 0 unused);
 * on every other rank just the connection to rank 0. With 2–4 ranks a star is two hops, the
 * fewest possible, and each step's tensors are small ([tokens, hidden]).
 */
export interface StarLinks {
  rank: number;
  worldSize: number;
  /** Rank 0 only: peers[r] is the connection to rank r. */
  peers: (Link | null)[];
  /** Other ranks: the connection to rank 0. */
  root: Link | null;
  timeoutMs: number;
}

function checkLength(got: number, want: number, from: string, what: string): void {
  if (got !== want) throw new CollectiveError(`${what}: ${from} sent ${got} values, expected ${want}: the ranks are out of step`);
}

/**
 * Sums `data` over all ranks; every rank ends with the same values. `data` itself may be the result
 * (rank 0 of a star) or not: use the returned array, and leave `data` alone until the next collective.
 */
export async function allReduceSum(links: StarLinks, data: Float32Array): Promise<Float32Array> {
  if (links.worldSize === 1) return data;
  if (links.worldSize === 2) return exchangeSum(links.rank === 0 ? links.peers[1]! : links.root!, data, links.timeoutMs);
  if (links.rank === 0) {
    const frames = await Promise.all(links.peers.slice(1).map((c) => c!.recv(FrameKind.f32, links.timeoutMs, 'all-reduce partial')));
    // Summed in rank order so the result does not depend on arrival order.
    frames.forEach((f, i) => {
      const part = asFloat32(f);
      checkLength(part.length, data.length, links.peers[i + 1]!.peer, 'all-reduce');
      for (let k = 0; k < data.length; k++) data[k]! += part[k]!;
    });
    for (let r = 1; r < links.worldSize; r++) await links.peers[r]!.send(FrameKind.f32, data);
    return data;
  }
  const root = links.root!;
  await root.send(FrameKind.f32, data);
  const sum = asFloat32(await root.recv(FrameKind.f32, links.timeoutMs, 'all-reduce result'));
  checkLength(sum.length, data.length, root.peer, 'all-reduce');
  return sum;
}

/**
 * Two ranks: each sends its part and adds the other's, so one one-way trip instead of the star's
 * there-and-back. a + b = b + a exactly in IEEE arithmetic, so both ranks hold identical sums. The
 * sum goes into the received buffer: a socket may still be reading `data` for the send.
 */
async function exchangeSum(peer: Link, data: Float32Array, timeoutMs: number): Promise<Float32Array> {
  await peer.send(FrameKind.f32, data);
  const other = asFloat32(await peer.recv(FrameKind.f32, timeoutMs, 'all-reduce partial'));
  checkLength(other.length, data.length, peer.peer, 'all-reduce');
  for (let k = 0; k < other.length; k++) other[k]! += data[k]!;
  return other;
}

/** Rank 0 sends `values`; every rank returns them. Other ranks pass null. */
export async function broadcastInt32(links: StarLinks, values: Int32Array | null): Promise<Int32Array> {
  if (links.rank === 0) {
    if (values === null) throw new Error('broadcast: rank 0 must provide the values');
    for (let r = 1; r < links.worldSize; r++) await links.peers[r]!.send(FrameKind.i32, values);
    return values;
  }
  return asInt32(await links.root!.recv(FrameKind.i32, links.timeoutMs, 'broadcast'));
}

/** Every rank sends `part`; rank 0 returns all parts in rank order, the others null. */
export async function gatherToRoot(links: StarLinks, part: Float32Array): Promise<Float32Array[] | null> {
  if (links.worldSize === 1) return [part];
  if (links.rank !== 0) {
    await links.root!.send(FrameKind.f32, part);
    return null;
  }
  const frames = await Promise.all(links.peers.slice(1).map((c) => c!.recv(FrameKind.f32, links.timeoutMs, 'gathered part')));
  return [part, ...frames.map(asFloat32)];
}
