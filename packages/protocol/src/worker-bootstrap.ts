// @module The code a worker thread is started with: its entry module as compiled JavaScript (dist/), or as TypeScript through tsx.
/**
 * `new Worker(workerBootstrap(url), { eval: true })`. `entry` is the thread's module beside the
 * caller, named with `.ts` (the source). Running compiled (the caller is a `.js` file in dist/),
 * the thread is its `.js` sibling and imports directly; from source, tsx is registered in the
 * thread first (a worker does not inherit the parent's loader).
 */
export function workerBootstrap(entry: URL, callerUrl: string): string {
  if (callerUrl.endsWith('.js')) {
    const compiled = new URL(entry.href.replace(/\.ts$/, '.js'));
    return `import(${JSON.stringify(compiled.href)});`;
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
}
