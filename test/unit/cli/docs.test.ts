import { readFileSync } from 'node:fs';
import { allOptions } from '../../../src/options/table.js';
import { commands } from '../../../src/cli/parse.js';

// Every option and command is documented once for people: README (or docs/unattended.md for the
// unattended-run options it links) and the chart's values.yaml, whose keys are the flags in camelCase.
const docs = ['README.md', 'docs/unattended.md'].map((file) => readFileSync(file, 'utf8')).join('\n');
const values = readFileSync('chart/values.yaml', 'utf8');
const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
// Flags the chart derives from a structured value: the peers list (a kubeconfig Secret per peer) gives both.
const chartKey: Record<string, string> = { peer: 'peers', 'peer-kubeconfig': 'peers' };

describe('documentation covers every option and command', () => {
  test.each(allOptions.map((o) => o.flag))('--%s is in the README or docs/unattended.md', (flag) => {
    expect(docs).toMatch(new RegExp(`\`--${flag}\``));
  });

  test.each(allOptions.map((o) => o.flag))('--%s has a documented chart value', (flag) => {
    expect(values).toMatch(new RegExp(`^  ${chartKey[flag] ?? camel(flag)}:`, 'm'));
  });

  test.each(Object.keys(commands))('command %s is in the README', (command) => {
    expect(docs).toMatch(new RegExp(`\\| \`${command}\` \\|`));
  });
});
