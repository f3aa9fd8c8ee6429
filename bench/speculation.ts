// @module Speculative decoding's acceptance during a benchmark run: the server's Prometheus counters read before and after.

export interface DraftCounters {
  proposed: number;
  accepted: number;
}

const PROPOSED = 'tessera_speculative_proposed_tokens_total';
const ACCEPTED = 'tessera_speculative_accepted_tokens_total';

/** Sums the unlabelled or labelled samples of `name` in a Prometheus text exposition. */
function sample(text: string, name: string): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !/^[a-z_]+(\{[^}]*\})? /.test(line)) continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The draft counters of a Tessera at `url`, or null when the server exposes none (another server, or /metrics off). */
export async function readDraftCounters(url: string): Promise<DraftCounters | null> {
  try {
    const res = await fetch(`${url}/metrics`);
    if (!res.ok) return null;
    const text = await res.text();
    const proposed = sample(text, PROPOSED);
    const accepted = sample(text, ACCEPTED);
    return proposed === null || accepted === null ? null : { proposed, accepted };
  } catch {
    return null;
  }
}

/** One line for the run, or null when nothing was drafted (speculation off). */
export function describeAcceptance(before: DraftCounters | null, after: DraftCounters | null): string | null {
  if (before === null || after === null) return null;
  const proposed = after.proposed - before.proposed;
  const accepted = after.accepted - before.accepted;
  if (proposed <= 0) return null;
  return `Speculative decoding: ${accepted} of ${proposed} draft tokens accepted (${((100 * accepted) / proposed).toFixed(1)} %)`;
}
