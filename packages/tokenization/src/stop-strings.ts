// @module StopStringMatcher: finds stop strings in streamed text, holding back text that may begin one.

export interface StopPushResult {
  /** Text that is safe to emit now (never part of a stop string). */
  text: string;
  /** A stop string completed: generation should end; `text` excludes the stop string and all after it. */
  stopped: boolean;
  /** The stop string that matched. */
  stop?: string;
}

/**
 * Semantics are independent of how the text is chunked: generation stops at the first position where some stop
 * string ends (the earliest a streaming server can know); when several end there, the longest one matches.
 */
export class StopStringMatcher {
  private readonly stops: string[];
  private held = '';
  private stoppedOn: string | null = null;

  constructor(stops: readonly string[]) {
    this.stops = [...new Set(stops.filter((s) => s.length > 0))];
  }

  /** Whether a stop string has matched (later pushes then return no text). */
  get stopped(): boolean {
    return this.stoppedOn !== null;
  }

  push(text: string): StopPushResult {
    if (this.stoppedOn !== null) return { text: '', stopped: true, stop: this.stoppedOn };
    if (this.stops.length === 0) return { text, stopped: false };
    const buffer = this.held + text;

    const match = this.firstCompletedStop(buffer);
    if (match !== null) {
      this.stoppedOn = match.stop;
      this.held = '';
      return { text: buffer.slice(0, match.start), stopped: true, stop: match.stop };
    }

    const keep = this.longestSuffixThatStartsAStop(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), stopped: false };
  }

  /** Releases held-back text at the end of generation ('' once a stop has matched). */
  flush(): string {
    const rest = this.stoppedOn === null ? this.held : '';
    this.held = '';
    return rest;
  }

  private firstCompletedStop(buffer: string): { start: number; stop: string } | null {
    let best: { start: number; end: number; stop: string } | null = null;
    for (const stop of this.stops) {
      const start = buffer.indexOf(stop);
      if (start < 0) continue;
      const end = start + stop.length;
      if (best === null || end < best.end || (end === best.end && start < best.start)) best = { start, end, stop };
    }
    return best === null ? null : { start: best.start, stop: best.stop };
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some stop string. */
  private longestSuffixThatStartsAStop(buffer: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, buffer.length); k > longest; k--) {
        if (buffer.endsWith(stop.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }
}
