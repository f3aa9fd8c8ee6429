// Test reporter for `node test/run.mjs --record-durations`: one line per top-level test, "ms<TAB>file<TAB>epoch ms when it ended".
// With bundles (several files per process) `file` is still the file that defines the test.
export default async function* durationsReporter(source) {
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      yield `${event.data.details.duration_ms}\t${event.data.file}\t${Date.now()}\n`;
    }
  }
}
