import type { Purpose } from '../../src/rotation/gates.js';
import type { Plan, StepName } from '../../src/rotation/plan.js';

/** A plan step reduced to what the plan tests compare. */
export interface Shape {
  name: StepName;
  purpose?: Purpose;
  targets?: string[];
  resume?: boolean;
}

/** The steps of a plan as Shapes. */
export const shape = (plan: Plan): Shape[] => plan.steps.map(({ name, purpose, targets, resume }) => ({ name, purpose, targets, resume }));

/** An expected step. */
export const s = (name: StepName, purpose?: Purpose, targets?: string[]): Shape => ({ name, ...(purpose ? { purpose } : {}), ...(targets ? { targets } : {}) });

/** The steps of a whole rotation from a steady cluster, in order (the seven steps of DOMAIN.md, with the bundle wait and the restarts split by plane). */
export const fullRotation: readonly StepName[] = [
  'renew-anchor',
  'wait-bundle',
  'restart-control-plane',
  'restart-data-plane',
  'renew-issuer',
  'restart-control-plane',
  'restart-data-plane',
  'update-bundle',
  'restart-control-plane',
  'restart-data-plane',
];
