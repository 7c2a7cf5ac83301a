// A Snapshot (src/unattended/metrics.ts) with fixed dates, for the renderers' tests: each test states the facts it reads.
import type { Snapshot } from '../../src/unattended/metrics.js';

/** A steady, healthy cluster read at 2025-06-01T12:00:00Z, with the given fields in place of the defaults. */
export function snapshotWith(fields: Partial<Snapshot> = {}): Snapshot {
  return {
    now: new Date('2025-06-01T12:00:00Z'),
    anchor: { fingerprint: 'ab'.repeat(32), notBefore: new Date('2025-05-01T00:00:00Z'), notAfter: new Date('2026-05-01T00:00:00Z') },
    issuer: { notBefore: new Date('2025-06-01T10:00:00Z'), notAfter: new Date('2025-06-03T10:00:00Z') },
    phase: 'steady',
    health: 'healthy',
    stalePods: 0,
    meshedPods: 6,
    ...fields,
  };
}
