// The e2e files are independent (each sets up what it needs and leaves its cluster steady), so
// the order only balances the workers: longest first. jest's own order does that from its timing
// cache (failed files first, then files it has no timing for, then by last duration). faults.test.ts
// (about 5 minutes) and multicluster.test.ts (about 5 minutes, with a cluster of its own) always go
// first, also on a fresh clone or a partial cache, so that the other workers share the rest instead of
// waiting for them at the end.
const Sequencer = require('@jest/test-sequencer').default;

const knownLongest = ['faults', 'multicluster'];
const rank = (test) => {
  const index = knownLongest.indexOf(test.path.split('/').pop().replace('.test.ts', ''));
  return index < 0 ? knownLongest.length : index;
};

class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = [...super.sort(tests)].sort((a, b) => rank(a) - rank(b));
    // Read by globalSetup (same process): no more clusters than files.
    (globalThis.__lcrE2e ??= {}).files = sorted.length;
    return sorted;
  }
}

module.exports = LongestFirst;
