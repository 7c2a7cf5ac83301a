// src/kube/kubeconfig-source.ts: which kubeconfig a run uses, in client-go's order.
import { kubeconfigSource, type KubeconfigInputs, type KubeconfigSource } from '../../../src/kube/kubeconfig-source.js';

const home = '/home/me/.kube/config';

describe('kubeconfigSource: --kubeconfig, then KUBECONFIG, then in-cluster, then ~/.kube/config', () => {
  it.each<[string, KubeconfigInputs, KubeconfigSource['kind'], string[] | null]>([
    ['the flag (or LCR_KUBECONFIG) wins over everything', { flag: '/f', kubeconfigEnv: '/e', inCluster: true, homeConfig: home }, 'flag', ['/f']],
    ['KUBECONFIG wins over in-cluster credentials in a pod', { kubeconfigEnv: '/e', inCluster: true, homeConfig: home }, 'env', ['/e']],
    ['KUBECONFIG wins over ~/.kube/config', { kubeconfigEnv: '/e', inCluster: false, homeConfig: home }, 'env', ['/e']],
    ['KUBECONFIG lists several files, blanks dropped', { kubeconfigEnv: '/a::/b:', inCluster: false }, 'env', ['/a', '/b']],
    ['an empty KUBECONFIG is unset', { kubeconfigEnv: '', inCluster: true, homeConfig: home }, 'in-cluster', null],
    ['an empty flag is unset', { flag: '', inCluster: false, homeConfig: home }, 'home', [home]],
    ['in-cluster wins over ~/.kube/config', { inCluster: true, homeConfig: home }, 'in-cluster', null],
    ['~/.kube/config last', { inCluster: false, homeConfig: home }, 'home', [home]],
    ['nothing at all', { inCluster: false }, 'none', null],
  ])('%s', (_name, inputs, kind, paths) => {
    const source = kubeconfigSource(inputs, ':');
    expect(source.kind).toBe(kind);
    expect('paths' in source ? source.paths : null).toEqual(paths);
  });

  it('splits KUBECONFIG on the platform delimiter (";" on Windows)', () => {
    expect(kubeconfigSource({ kubeconfigEnv: 'C:\\a;C:\\b', inCluster: false }, ';')).toEqual({ kind: 'env', paths: ['C:\\a', 'C:\\b'] });
  });
});
