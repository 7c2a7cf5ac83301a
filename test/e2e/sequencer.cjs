// The e2e files are independent (each sets up what it needs and leaves its cluster steady), so
// the order only balances the workers: longest first. With a timing cache, jest's own order
// already is (failed files first, then by last duration). On a fresh clone there are no timings:
// faults.test.ts (about 6 minutes, 40% of the suite) goes first, so that the other workers share
// the rest instead of waiting for it at the end.
const Sequencer = require('@jest/test-sequencer').default;

const knownLongest = ['faults'];
const name = (path) => path.split('/').pop().replace('.test.ts', '');

class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    // Read by globalSetup (same process): no more clusters than files.
    (globalThis.__lcrE2e ??= {}).files = sorted.length;
    if (sorted.some((test) => test.duration !== undefined)) return sorted;
    const rank = (test) => (knownLongest.includes(name(test.path)) ? 0 : 1);
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongestFirst;
