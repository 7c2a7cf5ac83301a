// src/kube/kubeconfig.ts loadKubeConfig: a kubeconfig that cannot be used is a configuration error (exit 2), before any API call.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { exitCodeFor, ExitCode, UsageError } from '../../../src/errors.js';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';

const scratch = mkdtempSync(join(tmpdir(), 'lcr-kubeconfig-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{ name: local, cluster: { server: "https://127.0.0.1:6443" } }]
users: [{ name: admin, user: { token: not-a-real-token } }]
contexts: [{ name: local, context: { cluster: local, user: admin } }, { name: other, context: { cluster: local, user: admin } }]
current-context: local
`;

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

describe('loadKubeConfig', () => {
  // js-yaml's message quotes the lines around the error: a token or a key of the file.
  it.each([
    [
      'a token line before broken YAML',
      'users:\n- name: admin\n  user:\n    token: fake-token-0123456789abcdef\n    client-key-data: [unclosed\nclusters: {\n',
    ],
    [
      'a key line inside broken YAML',
      'users:\n- name: admin\n  user: { client-key-data: "fake-key-LS0tLS1CRUdJTi1QUklWQVRF, token: fake-token-0123456789abcdef\n',
    ],
    ['a tab-indented token', 'users:\n\t- token: fake-token-0123456789abcdef\n'],
  ])('a kubeconfig that fails to parse (%s): the error names the path and the kind of failure, never a line of the file', (_name, text) => {
    const path = file('secret-bad.yaml', text);
    let thrown: unknown;
    try {
      loadKubeConfig({ kubeconfig: path });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    const message = (thrown as Error).message;
    expect(message).toMatch(
      new RegExp(`^cannot load the kubeconfig ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid YAML( at line \\d+, column \\d+)?$`),
    );
    expect(message).not.toMatch(/fake-token|fake-key|client-key-data|token:|users/);
  });

  it('loads a file and selects the asked context', () => {
    const config = loadKubeConfig({ kubeconfig: file('ok.yaml', kubeconfig), context: 'other' });
    expect(config.getCurrentContext()).toBe('other');
    expect(config.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it.each([
    ['a missing file', { kubeconfig: join(scratch, 'absent.yaml') }, /^cannot load the kubeconfig .*absent\.yaml: .*ENOENT/],
    [
      'a file that is not YAML',
      { kubeconfig: file('bad.yaml', 'clusters: [unclosed\n') },
      /^cannot load the kubeconfig .*bad\.yaml: not valid YAML at line 2, column 1$/,
    ],
    [
      'a cluster without a server',
      { kubeconfig: file('noserver.yaml', 'clusters: [{ name: a, cluster: {} }]\n') },
      /^cannot load the kubeconfig .*noserver\.yaml: not a valid kubeconfig: clusters\[0\]\.cluster\.server is missing$/,
    ],
    ['an unknown context', { kubeconfig: file('ok2.yaml', kubeconfig), context: 'prod' }, /^the kubeconfig has no context named prod$/],
  ])('%s is a configuration error (exit 2)', (_name, connection, message) => {
    let thrown: unknown;
    try {
      loadKubeConfig(connection);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toMatch(message);
    expect(exitCodeFor(thrown)).toBe(ExitCode.usage);
  });
});

describe('loadKubeConfig without --kubeconfig reads KUBECONFIG', () => {
  const saved = process.env.KUBECONFIG;
  afterEach(() => {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  });

  it('merges the listed files, the first one choosing the current context', () => {
    const second = kubeconfig.replace(/local/g, 'second').replace(/admin/g, 'viewer').replace('other', 'third');
    process.env.KUBECONFIG = [file('first.yaml', kubeconfig), file('second.yaml', second)].join(delimiter);
    const config = loadKubeConfig({});
    expect(config.getCurrentContext()).toBe('local');
    expect(
      config
        .getContexts()
        .map((c) => c.name)
        .sort(),
    ).toEqual(['local', 'other', 'second', 'third']);
  });

  it('a missing file in KUBECONFIG is a configuration error naming it', () => {
    process.env.KUBECONFIG = join(scratch, 'gone.yaml');
    expect(() => loadKubeConfig({})).toThrow(/^cannot load the kubeconfig .*gone\.yaml: .*ENOENT/);
  });
});
