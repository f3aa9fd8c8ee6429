// @module Large one-byte strings cross between threads as transferred bytes: V8 deserializes a 1 MiB string in ~6 ms, a transferred buffer in microseconds.

/** Strings at least this long are carried as bytes. */
const MIN_CHARS = 64 * 1024;
/** JSON bodies are not walked deeper than this (deeper strings simply travel as strings). */
const MAX_DEPTH = 32;

/** A string taken out of a value: where it was, and its Latin-1 bytes (every char < U+0100). */
export interface LiftedString {
  path: (string | number)[];
  bytes: Uint8Array;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole Latin-1 range (one byte per UTF-16 unit) is the point.
const ONE_BYTE = /^[\x00-\xff]*$/;

/**
 * Replaces each large one-byte string inside `value` (objects and arrays) by null and returns them
 * as bytes, to post with their buffers in the transfer list. Strings with a char ≥ U+0100 stay.
 */
export function liftLargeStrings(value: unknown): LiftedString[] {
  const lifted: LiftedString[] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (path.length > MAX_DEPTH || node === null || typeof node !== 'object') return;
    const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
    for (const [key, child] of entries) {
      if (typeof child === 'string' && child.length >= MIN_CHARS && ONE_BYTE.test(child)) {
        lifted.push({ path: [...path, key], bytes: Buffer.from(child, 'latin1') });
        (node as Record<string | number, unknown>)[key] = null;
      } else walk(child, [...path, key]);
    }
  };
  walk(value, []);
  return lifted;
}

/** Puts lifted strings back (the receiving side). */
export function restoreLargeStrings(value: unknown, lifted: readonly LiftedString[]): void {
  for (const { path, bytes } of lifted) {
    let node = value as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path.at(-1)!] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}
