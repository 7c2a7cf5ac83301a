import type { Plan } from '../rotation/plan.js';

/** A plan for a person: numbered steps, their purpose, their targets. */
export function renderPlan(plan: Plan): string {
  const lines = [`phase: ${plan.phase}`, plan.summary];
  if (plan.steps.length === 0) lines.push('nothing to do');
  plan.steps.forEach((step, index) => {
    const purpose = step.purpose ? ` (${step.purpose})` : '';
    const resume = step.resume ? ' [resume]' : '';
    lines.push(`${String(index + 1).padStart(2)}. ${step.name}${purpose}${resume}: ${step.why}`);
    if (step.name.startsWith('restart-')) {
      lines.push(step.targets ? `      targets: ${step.targets.join(', ') || 'none'}` : '      targets: every workload with stale pods at that time');
    }
  });
  return lines.join('\n');
}
