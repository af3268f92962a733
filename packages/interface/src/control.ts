import type { ExecutionPlan } from './plan.js';

/** Messages between the coordinator and workers. */
export type ControlMessage =
  | { readonly type: 'register'; readonly workerId: string; readonly endpoint: string; readonly slots: number; readonly pid: number }
  | { readonly type: 'registered'; readonly workerId: string; readonly heartbeatMs: number }
  | { readonly type: 'heartbeat'; readonly workerId: string; readonly time: number }
  | {
      readonly type: 'deploy';
      readonly jobId: string;
      readonly plan: ExecutionPlan;
      readonly bundle: string;
      /** taskId → worker endpoint, for every task of the job. */
      readonly endpoints: Readonly<Record<string, string>>;
      readonly tasks: readonly { readonly taskId: string; readonly attempt: number }[];
    }
  | { readonly type: 'cancel'; readonly jobId: string }
  | {
      readonly type: 'task-state';
      readonly jobId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly state: 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED';
      readonly error?: string;
    }
  | { readonly type: 'trigger-checkpoint'; readonly jobId: string; readonly checkpointId: number; readonly timestamp: number }
  | { readonly type: 'ack-checkpoint'; readonly jobId: string; readonly taskId: string; readonly checkpointId: number; readonly handle: string }
  | { readonly type: 'checkpoint-complete'; readonly jobId: string; readonly checkpointId: number }
  | { readonly type: 'ok' }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

/** Request/response and one-way pushes between the coordinator and workers. */
export interface ControlChannel {
  request(peer: string, message: ControlMessage, timeoutMs?: number): Promise<ControlMessage>;
  push(peer: string, message: ControlMessage): void;
  onRequest(handler: (from: string, message: ControlMessage) => ControlMessage | Promise<ControlMessage>): void;
  onPush(handler: (from: string, message: ControlMessage) => void): void;
}
