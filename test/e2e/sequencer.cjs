// The e2e files are independent (each sets up what it needs and leaves its cluster steady), so
// the order only balances the workers: longest first. jest's own order does that from its timing
// cache (failed files first, then files it has no timing for, then by last duration). faults.test.ts
// (about 6 minutes, 40% of the suite) always goes first, also on a fresh clone or a partial cache,
// so that the other workers share the rest instead of waiting for it at the end.
const Sequencer = require('@jest/test-sequencer').default;

const knownLongest = ['faults'];
const rank = (test) => (knownLongest.includes(test.path.split('/').pop().replace('.test.ts', '')) ? 0 : 1);

class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = [...super.sort(tests)].sort((a, b) => rank(a) - rank(b));
    // Read by globalSetup (same process): no more clusters than files.
    (globalThis.__lcrE2e ??= {}).files = sorted.length;
    return sorted;
  }
}

module.exports = LongestFirst;
