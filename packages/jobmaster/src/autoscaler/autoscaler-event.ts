import type { AutoscalerDecision } from './autoscaler-limits.js';
import type { VertexRates } from './ds2-rates.js';

/**
 * One evaluation of the autoscaler, taken or not, as `GET /jobs/:id/events` lists it. Plain
 * JSON: unknown figures are null, never NaN.
 */
export interface AutoscalerEvent {
  readonly kind: 'autoscaler';
  /** Epoch ms of the evaluation (the policy's clock). */
  readonly time: number;
  /** True when `decisions` is to be applied. */
  readonly taken: boolean;
  /** Why: what changed and what bound it, or why nothing did. */
  readonly reason: string;
  /** Per vertex id: what was measured and derived. */
  readonly rates: Readonly<Record<string, VertexRates>>;
  /** Changes to apply, in this order (lowerings first, so the slots they free serve the raises); empty unless taken. */
  readonly decisions: readonly AutoscalerDecision[];
}
