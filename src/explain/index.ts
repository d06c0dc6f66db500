// `hako explain` (src/explain): the entry points.
export { explainBundle, DEFAULT_EXPLAIN_ID, type Explanation, type ExplainOptions, type HooksView } from './explain.js';
export { explanationText } from './text.js';
export { planView, type PlanView, type ProcessView, type MountView } from './view.js';

import type { Explanation } from './explain.js';

/** The explanation as JSON (bigints as decimal strings, as the view gives other large numbers). */
export function explanationJson(e: Explanation): string {
  return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
