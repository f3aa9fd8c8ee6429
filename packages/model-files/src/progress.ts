// @module Progress of long start-up steps (graph build, model generation): a bar on a TTY, throttled log lines otherwise.

/** Where progress lines go when stderr is not a terminal (a pino logger fits). */
export interface ProgressLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

export interface ProgressOptions {
  /** What is progressing, e.g. 'building graph'. */
  label: string;
  total: number;
  logger?: ProgressLogger;
  /** The terminal to draw on. Default process.stderr; the bar is drawn only when it is a TTY. */
  stream?: NodeJS.WriteStream;
  /** Least time between two log lines (not between bar redraws). Default 1000 ms. */
  logEveryMs?: number;
}

export interface Progress {
  /** `done` of `total` steps are finished; `detail` names the last one. */
  update(done: number, detail?: string): void;
  /** Ends the bar (newline) and logs the last line with the elapsed time. */
  finish(detail?: string): void;
}

const BAR_WIDTH = 30;

/** `[#########.........]  12/40  30%  layer 11/38` */
export function renderBar(label: string, done: number, total: number, detail = ''): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(frac * BAR_WIDTH);
  const pct = String(Math.floor(frac * 100)).padStart(3);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total} ${pct}%${detail ? `  ${detail}` : ''}`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true && process.env.TESSERA_LOG_FORMAT !== 'json';
  const logEveryMs = opts.logEveryMs ?? 1000;
  const started = Date.now();
  let lastLog = -Infinity;
  let lastDone = 0;
  let finished = false;
  const log = (done: number, detail: string | undefined, extra: Record<string, unknown> = {}) =>
    opts.logger?.info({ done, total: opts.total, ...extra }, `${opts.label}: ${detail ? `${detail} (${done}/${opts.total})` : `${done}/${opts.total}`}`);
  return {
    update(done, detail) {
      if (finished) return;
      lastDone = done;
      if (tty) {
        const line = renderBar(opts.label, done, opts.total, detail);
        stream.write(`\r${line.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}\x1b[K`);
        return;
      }
      // The first and last steps always log; in between at most one line per logEveryMs.
      const now = Date.now();
      if (done === 1 || done >= opts.total || now - lastLog >= logEveryMs) {
        lastLog = now;
        log(done, detail);
      }
    },
    finish(detail) {
      if (finished) return;
      finished = true;
      if (tty) stream.write('\n');
      log(lastDone, detail ?? 'done', { ms: Date.now() - started });
    },
  };
}
