import * as k8s from '@kubernetes/client-node';
import { names } from './fixture.js';

/**
 * Linkerd multicluster's `Link` objects (multicluster.linkerd.io/v1alpha3), in the Linkerd
 * namespace, with only what the rotator reads: the name and spec.targetClusterName. The CRD
 * carries the Link's identity as Linkerd ships it; its schema is not what is under test.
 */
export const linkCrd = 'links.multicluster.linkerd.io';
const link = { group: 'multicluster.linkerd.io', version: 'v1alpha3', plural: 'links' };

function clients(kubeconfig: string): { extensions: k8s.ApiextensionsV1Api; custom: k8s.CustomObjectsApi } {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  return { extensions: config.makeApiClient(k8s.ApiextensionsV1Api), custom: config.makeApiClient(k8s.CustomObjectsApi) };
}

const code = (error: unknown): number | undefined => (error as { code?: number }).code;

/** Installs the Link CRD (if missing) and a Link `linkName` whose targetClusterName is `target` (if missing). */
export async function installLinks(kubeconfig: string, linkName: string, target: string): Promise<void> {
  const { extensions, custom } = clients(kubeconfig);
  await extensions
    .createCustomResourceDefinition({
      body: {
        metadata: { name: linkCrd },
        spec: {
          group: link.group,
          scope: 'Namespaced',
          names: { plural: link.plural, singular: 'link', kind: 'Link' },
          versions: [
            { name: link.version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } },
          ],
        },
      },
    })
    .catch((error: unknown) => {
      if (code(error) !== 409) throw error;
    });
  const body = { apiVersion: `${link.group}/${link.version}`, kind: 'Link', metadata: { name: linkName }, spec: { targetClusterName: target } };
  for (let attempt = 0; ; attempt++) {
    try {
      await custom.createNamespacedCustomObject({ ...link, namespace: names.linkerdNs, body });
      return;
    } catch (error) {
      if (code(error) === 409) return;
      // A fresh CRD is served a moment after it is created.
      if (attempt > 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Deletes the Links (the cluster keeps the CRD). */
export async function deleteLinks(kubeconfig: string): Promise<void> {
  const { custom } = clients(kubeconfig);
  const list = (await custom.listNamespacedCustomObject({ ...link, namespace: names.linkerdNs }).catch(() => ({ items: [] }))) as {
    items: { metadata?: { name?: string } }[];
  };
  for (const item of list.items) {
    await custom.deleteNamespacedCustomObject({ ...link, namespace: names.linkerdNs, name: item.metadata?.name ?? '' }).catch((error: unknown) => {
      if (code(error) !== 404) throw error;
    });
  }
}

/** Removes the CRD, and with it every Link, and waits until it is gone: files after this one see a cluster without links. */
export async function removeLinks(kubeconfig: string): Promise<void> {
  const { extensions } = clients(kubeconfig);
  await extensions.deleteCustomResourceDefinition({ name: linkCrd }).catch((error: unknown) => {
    if (code(error) !== 404) throw error;
  });
  for (let attempt = 0; attempt < 120; attempt++) {
    const present = await extensions.readCustomResourceDefinition({ name: linkCrd }).then(
      () => true,
      (error: unknown) => code(error) !== 404,
    );
    if (!present) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`CRD ${linkCrd} still present 30 s after its deletion`);
}
