import { MobiusError, type TaskDeploymentRequest, type TaskGateway, type TaskToDeploy } from '@mobius/interface';

/** Why a deployment failed: a refusal fails the job, anything else (unreachable, timed out) may restart it. */
export interface DeployFailure {
  readonly refused: boolean;
  readonly reason: string;
  readonly cause: unknown;
}

function deployFailure(workerId: string, e: unknown): DeployFailure {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof MobiusError && e.code === 'DEPLOY_REFUSED') return { refused: true, reason: `worker ${workerId} refused the job: ${message}`, cause: e.cause ?? e };
  return { refused: false, reason: `deploying to worker ${workerId} failed: ${message}`, cause: e };
}

/**
 * Sends each worker its tasks; resolves when all took them, or at the first failure without
 * waiting for the other workers (a timed-out one may take 30 s), so the job master cancels
 * what the deployment started at once.
 */
export function deployAll(
  gateway: TaskGateway,
  byWorker: ReadonlyMap<string, readonly TaskToDeploy[]>,
  common: Omit<TaskDeploymentRequest, 'workerId' | 'tasks'>,
): Promise<DeployFailure | undefined> {
  return new Promise((resolve) => {
    let left = byWorker.size;
    if (left === 0) resolve(undefined);
    for (const [workerId, tasks] of byWorker) {
      gateway.deploy({ ...common, workerId, tasks }).then(
        () => {
          if (--left === 0) resolve(undefined);
        },
        (e: unknown) => resolve(deployFailure(workerId, e)), // the first failure settles it; later ones are moot
      );
    }
  });
}
