// Whether a lock holder still runs: its pod, or its process on this host.
import { formatHolderRef, parseHolderRef } from '../../../src/kube/unattended-ports.js';
import { HolderLiveness, processAlive } from '../../../src/unattended/liveness.js';
import type { HolderRef } from '../../../src/unattended/ports.js';

describe('holder references on the Lease', () => {
  it.each<[HolderRef, string]>([
    [{ kind: 'pod', namespace: 'linkerd-cert-rotator', name: 'rotator-29170080-x7k2p' }, 'pod:linkerd-cert-rotator/rotator-29170080-x7k2p'],
    [{ kind: 'process', host: 'build-host.example', pid: 4242 }, 'process:build-host.example:4242'],
  ])('%j <-> %s', (ref, text) => {
    expect(formatHolderRef(ref)).toBe(text);
    expect(parseHolderRef(text)).toEqual(ref);
  });

  it.each([undefined, '', 'somebody', 'pod:/x', 'process:host:abc'])('%j is no reference', (text) => {
    expect(parseHolderRef(text)).toBeUndefined();
  });
});

describe('HolderLiveness', () => {
  const pods = { podAlive: (namespace: string, name: string): Promise<boolean> => Promise.resolve(`${namespace}/${name}` === 'ops/running') };

  it('asks the API about pods', async () => {
    const probe = new HolderLiveness(pods, { hostname: 'here' });
    expect(await probe.alive({ kind: 'pod', namespace: 'ops', name: 'running' })).toBe(true);
    expect(await probe.alive({ kind: 'pod', namespace: 'ops', name: 'deleted' })).toBe(false);
  });

  it('checks processes on this host only', async () => {
    const probe = new HolderLiveness(pods, { hostname: 'here', processAlive: (pid) => pid === 1 });
    expect(await probe.alive({ kind: 'process', host: 'here', pid: 1 })).toBe(true);
    expect(await probe.alive({ kind: 'process', host: 'here', pid: 2 })).toBe(false);
    expect(await probe.alive({ kind: 'process', host: 'elsewhere', pid: 2 })).toBeUndefined();
  });

  it('processAlive: this process is, an unused pid is not', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 12345)).toBe(false);
  });
});
