import * as k8s from '@kubernetes/client-node';
import { eventually } from './eventually.js';

/**
 * cert-manager's own schedule, driven from tests: read a Certificate's status and change its
 * duration or renewBefore, as an operator (or a GitOps change) would. cert-manager's trigger
 * controller then renews on its own when `status.renewalTime` comes.
 */
export interface CertificateStatus {
  revision: number;
  notBefore?: Date;
  notAfter?: Date;
  renewalTime?: Date;
}

const api = { group: 'cert-manager.io', version: 'v1', plural: 'certificates' };

export class Certificates {
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kubeconfig: string) {
    const config = new k8s.KubeConfig();
    config.loadFromFile(kubeconfig);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
  }

  async status(namespace: string, name: string): Promise<CertificateStatus> {
    const raw = (await this.custom.getNamespacedCustomObject({ ...api, namespace, name })) as { status?: Record<string, unknown> };
    const date = (value: unknown): Date | undefined => (typeof value === 'string' ? new Date(value) : undefined);
    const status = raw.status ?? {};
    return {
      revision: typeof status.revision === 'number' ? status.revision : 0,
      notBefore: date(status.notBefore),
      notAfter: date(status.notAfter),
      renewalTime: date(status.renewalTime),
    };
  }

  /** Merge-patches spec fields (duration, renewBefore, ...). */
  async patchSpec(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { ...api, namespace, name, body: { spec } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  /**
   * Moves cert-manager's renewal of the current certificate to `at` without re-issuing it now:
   * renewBefore = notAfter - at (cert-manager re-issues at once only when that time has passed).
   */
  async renewAt(namespace: string, name: string, at: Date): Promise<CertificateStatus> {
    const before = await this.status(namespace, name);
    if (!before.notAfter) throw new Error(`Certificate ${namespace}/${name} has no notAfter yet`);
    const seconds = Math.round((before.notAfter.getTime() - at.getTime()) / 1000);
    await this.patchSpec(namespace, name, { renewBefore: `${seconds}s` });
    return eventually(`renewalTime of ${namespace}/${name} moved`, async () => {
      const now = await this.status(namespace, name);
      if (now.revision !== before.revision || Math.abs((now.renewalTime?.getTime() ?? 0) - at.getTime()) > 1500)
        throw new Error(`renewalTime ${now.renewalTime?.toISOString()}`);
      return now;
    });
  }

  /** Waits until cert-manager has issued a revision after `revision`. */
  async issuedAfter(namespace: string, name: string, revision: number, timeoutMs = 60_000): Promise<CertificateStatus> {
    return eventually(
      `Certificate ${namespace}/${name} re-issued after revision ${revision}`,
      async () => {
        const now = await this.status(namespace, name);
        if (now.revision <= revision) throw new Error(`still revision ${now.revision}`);
        return now;
      },
      timeoutMs,
    );
  }
}
