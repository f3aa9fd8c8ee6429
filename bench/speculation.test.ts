// @module The benchmark's acceptance line from two /metrics readings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeAcceptance } from './speculation.ts';

test('acceptance over the run is the difference of the counters', () => {
  assert.equal(
    describeAcceptance({ proposed: 10, accepted: 4 }, { proposed: 210, accepted: 104 }),
    'Speculative decoding: 100 of 200 draft tokens accepted (50.0 %)',
  );
  assert.equal(describeAcceptance({ proposed: 0, accepted: 0 }, { proposed: 0, accepted: 0 }), null, 'speculation off');
  assert.equal(describeAcceptance(null, { proposed: 5, accepted: 1 }), null, 'no counters (another server)');
});
