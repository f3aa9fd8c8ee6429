// @module "did you mean --max-total-tokens?": the known flag closest to a mistyped one.

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `name`, or null when none is close: within a third of the name's length
 * (at least 2 edits), or one that starts or ends with the typed name (`--tokens` → `--max-total-tokens`
 * is too vague; `--max-input` → `--max-input-tokens` is not).
 */
export function nearestFlag(name: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  const limit = Math.max(2, Math.floor(name.length / 3));
  for (const candidate of candidates) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== null && bestDistance <= limit) return best;
  if (name.length >= 4) {
    for (const candidate of candidates) if (candidate.startsWith(name) || candidate.endsWith(`-${name}`)) return candidate;
  }
  return null;
}
