// The e2e files share one cluster: run them in a fixed order, first the file that expects the
// fixture as freshly laid down (a previous-anchor Secret made the old way), then the rest.
const Sequencer = require('@jest/test-sequencer').default;

const order = ['rotate', 'tasks', 'resume', 'optout', 'unattended', 'faults', 'chart', 'bad-input'];
const rank = (path) => {
  const name = path.split('/').pop().replace('.test.ts', '');
  const index = order.indexOf(name);
  return index === -1 ? order.length : index;
};

class FixedOrder extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}

module.exports = FixedOrder;
