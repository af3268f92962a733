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
  /**
   * Set by the job master's loop on an event that is not an evaluation (`taken` false, `rates`
   * and `decisions` empty): `skipped`, no evaluation at this tick (the reason says why: a rescale
   * or a recovery in progress, the job not running); `failed`, a change of the decision before it
   * could not be applied (the reason names it and the error, and what was left undone).
   */
  readonly outcome?: 'skipped' | 'failed';
}
