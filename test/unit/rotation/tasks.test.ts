// Every single task in every phase: run, no-op or refuse, judged from the state alone (judgeTask).
import { derivePlan, type Phase } from '../../../src/rotation/plan.js';
import { judgeTask, nextRenewal, nothingToRenew, type Task, type TaskVerdict } from '../../../src/rotation/tasks.js';
import type { Generated } from '../../support/certs.js';
import {
  anchorRenewedSpec,
  at,
  cleanPreviousSecret,
  issuerRenewedSpec,
  makeRotation,
  meshWorkloads,
  observedState,
  podsOfMesh,
  steadySpec,
  type Rotation,
  type StateSpec,
} from '../../support/state.js';

let r: Rotation;
let both: Generated[];
beforeAll(async () => {
  r = await makeRotation();
  both = [r.oldAnchor, r.newAnchor];
});

/** The states a rotation (or a task run out of order, or a crash) can leave, by name. */
const states: Record<string, { phase: Phase; spec: () => StateSpec }> = {
  steady: { phase: 'steady', spec: () => steadySpec(r) },
  'steady, empty previous-anchor Secret (fresh install)': {
    phase: 'steady',
    spec: () => steadySpec(r, { previous: [], previousSecret: cleanPreviousSecret({ tlsCrt: '' }) }),
  },
  'steady, legacy previous-anchor Secret': {
    phase: 'steady',
    spec: () => steadySpec(r, { previousSecret: cleanPreviousSecret({ type: 'kubernetes.io/tls', hasPrivateKey: true, tlsCrt: r.newAnchor.pem }) }),
  },
  'anchor renewing': { phase: 'anchor-renewing', spec: () => steadySpec(r, { anchorIssuing: true }) },
  'anchor renewed, before gate 1': {
    phase: 'anchor-renewed',
    spec: () => anchorRenewedSpec(r, { pods: podsOfMesh({ anchors: both }, { web: { anchors: [r.oldAnchor] } }) }),
  },
  'anchor renewed, gate 1 met': { phase: 'anchor-renewed', spec: () => anchorRenewedSpec(r) },
  'anchor renewed, bundle not settled': {
    phase: 'anchor-renewed',
    spec: () => anchorRenewedSpec(r, { targets: [{ namespace: 'linkerd', anchors: [r.oldAnchor] }] }),
  },
  'issuer renewing': { phase: 'issuer-renewing', spec: () => anchorRenewedSpec(r, { issuerIssuing: true }) },
  'issuer renewed, before gate 2': {
    phase: 'issuer-renewed',
    spec: () => issuerRenewedSpec(r, { pods: podsOfMesh({ anchors: both }, { identity: { startedAt: at('09:00') } }) }),
  },
  'issuer renewed, gate 2 met': { phase: 'issuer-renewed', spec: () => issuerRenewedSpec(r) },
  'bundle trimmed, restarts pending': {
    phase: 'bundle-trimmed',
    spec: () => steadySpec(r, { pods: podsOfMesh({ anchors: [r.newAnchor] }, { web: { anchors: both } }) }),
  },
  'inconsistent: old anchor dropped while the issuer chained to it': {
    phase: 'inconsistent',
    spec: () => ({
      anchor: r.newAnchor,
      previous: [r.newAnchor],
      issuer: r.oldIssuer,
      signer: undefined,
      workloads: meshWorkloads,
      pods: podsOfMesh({ anchors: both }),
    }),
  },
};

type V = TaskVerdict['verdict'];
const tasks: Task[] = ['renew-anchor', 'renew-issuer', 'restart-control-plane', 'restart-data-plane', 'update-bundle'];

// One row per state, one column per task (in the order of `tasks`).
const table: [string, V, V, V, V, V][] = [
  ['steady', 'run', 'run', 'run', 'run', 'no-op'],
  ['steady, empty previous-anchor Secret (fresh install)', 'run', 'run', 'run', 'run', 'run'],
  ['steady, legacy previous-anchor Secret', 'run', 'run', 'run', 'run', 'run'],
  ['anchor renewing', 'run', 'refuse', 'refuse', 'refuse', 'refuse'],
  ['anchor renewed, before gate 1', 'refuse', 'refuse', 'run', 'run', 'refuse'],
  ['anchor renewed, gate 1 met', 'refuse', 'run', 'run', 'run', 'refuse'],
  ['anchor renewed, bundle not settled', 'refuse', 'run', 'refuse', 'refuse', 'refuse'],
  ['issuer renewing', 'refuse', 'run', 'run', 'run', 'refuse'],
  ['issuer renewed, before gate 2', 'refuse', 'run', 'run', 'run', 'refuse'],
  ['issuer renewed, gate 2 met', 'refuse', 'run', 'run', 'run', 'run'],
  ['bundle trimmed, restarts pending', 'refuse', 'run', 'run', 'run', 'no-op'],
  ['inconsistent: old anchor dropped while the issuer chained to it', 'refuse', 'refuse', 'refuse', 'refuse', 'refuse'],
];

const judge = (name: string, task: Task): { verdict: TaskVerdict; phase: Phase } => {
  const entry = states[name];
  if (!entry) throw new Error(`no state ${name}`);
  const state = observedState(entry.spec());
  // renew-certs judges against the plan that may start a rotation; the other tasks never start one.
  const plan = derivePlan(state, { startNew: task === 'renew-anchor' || task === 'renew-issuer' });
  return { verdict: judgeTask(task, state, plan), phase: plan.phase };
};

describe('judgeTask: every task in every phase', () => {
  test('the table covers every state and every phase', () => {
    expect(table.map(([name]) => name).sort()).toEqual(Object.keys(states).sort());
    const phases = new Set(Object.values(states).map((s) => s.phase));
    expect([...phases].sort()).toEqual(['anchor-renewed', 'anchor-renewing', 'bundle-trimmed', 'inconsistent', 'issuer-renewed', 'issuer-renewing', 'steady']);
  });

  describe.each(table)('%s', (name, ...verdicts) => {
    test.each(tasks.map((task, i) => [task, verdicts[i]] as const))('%s: %s', (task, expected) => {
      const { verdict, phase } = judge(name, task);
      expect(phase).toBe(states[name]?.phase);
      expect(verdict.verdict).toBe(expected);
      // A refusal or a no-op names the phase it was judged in, and a refusal says what to run instead.
      if (verdict.verdict !== 'run') expect(verdict.reason).toContain(`phase ${phase}`);
      if (verdict.verdict === 'refuse')
        expect(verdict.reason).toMatch(
          /run (rotate|restart-control-plane|restart-data-plane|renew-certs|update-bundle)|restart them by hand|wait for trust-manager/,
        );
    });
  });
});

describe('what the refusals say', () => {
  const reason = (name: string, task: Task): string => {
    const { verdict } = judge(name, task);
    return verdict.verdict === 'run' ? '' : verdict.reason;
  };

  test('update-bundle before the issuer chains to the current anchor names the next step', () => {
    expect(reason('anchor renewed, gate 1 met', 'update-bundle')).toMatch(
      /the issuer does not chain to the current anchor [0-9a-f]{12} yet.*the next step is renew-issuer: run renew-certs --which issuer/,
    );
  });

  test('renew-certs --which issuer before gate 1 names a pod that lacks the anchor and the restart commands', () => {
    expect(reason('anchor renewed, before gate 1', 'renew-issuer')).toMatch(
      /gate 1 .* is not met: 1 meshed pod\(s\) must restart first, e.g\. shop\/web-0 \(Deployment\/web\): its bundle lacks the new trust anchor; run restart-control-plane, then restart-data-plane/,
    );
  });

  test('update-bundle before gate 2 names the identity controller', () => {
    expect(reason('issuer renewed, before gate 2', 'update-bundle')).toMatch(
      /gate 2 .* linkerd\/identity-0 \(Deployment\/linkerd-identity\): identity controller started before the current issuer was issued/,
    );
  });

  test('a second anchor renewal while a rotation is unfinished points at rotate', () => {
    expect(reason('issuer renewed, gate 2 met', 'renew-anchor')).toMatch(/the last rotation is unfinished .*; run rotate to finish it/);
  });

  test('only opted-out pods hold a gate: restart them by hand', () => {
    const state = observedState(anchorRenewedSpec(r, { pods: podsOfMesh({ anchors: both }, { legacy: { anchors: [r.oldAnchor] } }) }));
    const verdict = judgeTask('renew-issuer', state, derivePlan(state, { startNew: false }));
    expect(verdict).toMatchObject({ verdict: 'refuse', reason: expect.stringMatching(/legacy\/legacy-0 .*restart them by hand/) as unknown });
  });

  test('a stale pod that is already terminating does not refuse the gate: the task awaits it', () => {
    const state = observedState(anchorRenewedSpec(r, { pods: podsOfMesh({ anchors: both }, { web: { anchors: [r.oldAnchor], terminating: true } }) }));
    expect(judgeTask('renew-issuer', state, derivePlan(state, { startNew: false })).verdict).toBe('run');
  });

  test('restarts with no target namespace are refused', () => {
    const state = observedState(steadySpec(r, { targets: [] }));
    expect(judgeTask('restart-data-plane', state, derivePlan(state, { startNew: false }))).toMatchObject({
      verdict: 'refuse',
      reason: expect.stringContaining('no target namespace') as unknown,
    });
  });
});

describe('renew-certs without --which', () => {
  it.each<[string, 'anchor' | 'issuer' | undefined]>([
    ['steady', 'anchor'],
    ['anchor renewing', 'anchor'],
    ['anchor renewed, gate 1 met', 'issuer'],
    ['issuer renewing', 'issuer'],
    ['inconsistent: old anchor dropped while the issuer chained to it', 'issuer'],
    ['issuer renewed, gate 2 met', undefined],
    ['bundle trimmed, restarts pending', undefined],
  ])('%s -> %s', (name, which) => {
    const state = observedState(states[name]?.spec() ?? steadySpec(r));
    expect(nextRenewal(derivePlan(state, { startNew: true }))).toBe(which);
  });

  test('nothing due: the message names the next step and its command', () => {
    const plan = derivePlan(observedState(issuerRenewedSpec(r)), { startNew: true });
    expect(nothingToRenew(plan)).toBe(
      'no certificate is due in the safe order now (phase issuer-renewed); the next step is update-bundle: run update-bundle (or rotate)',
    );
  });
});
