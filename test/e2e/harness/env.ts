import { TestKube } from './kube.js';

/** The kubeconfig of the cluster globalSetup started. */
export function e2eKubeconfig(): string {
  const path = process.env.LCR_E2E_KUBECONFIG;
  if (!path) throw new Error('LCR_E2E_KUBECONFIG is not set: run the e2e suite with `npm run test:e2e`');
  return path;
}

export function e2eKube(): TestKube {
  return new TestKube(e2eKubeconfig());
}
