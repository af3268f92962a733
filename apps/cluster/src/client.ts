import { MobiusError, type RescaleEvent } from '@mobius/interface';

/** A client of the coordinator's HTTP API. */
export class ClusterClient {
  constructor(
    readonly url: string,
    private readonly token: string | undefined,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.url), {
        method,
        headers: {
          ...(this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new MobiusError('UNREACHABLE', `cannot reach the coordinator at ${this.url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
    const text = await res.text();
    const json = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new MobiusError(err?.code ?? `HTTP_${res.status}`, `${method} ${path} failed (${res.status}): ${err?.message ?? text}`);
    }
    return json as T;
  }
}

export interface JobSummary {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly error: string | null;
}

/** Polls the job's events until rescale `rescaleId` is one (done or failed); throws if the job ends first. */
export async function waitForRescale(api: ClusterClient, jobId: string, rescaleId: string): Promise<RescaleEvent> {
  const find = async (): Promise<RescaleEvent | undefined> => {
    const events = await api.call<readonly { kind: string; id?: string }[]>('GET', `/jobs/${jobId}/events`);
    return events.find((e) => e.kind === 'rescale' && e.id === rescaleId) as RescaleEvent | undefined;
  };
  for (;;) {
    const event = await find();
    if (event !== undefined) return event;
    const status = await api.call<JobSummary>('GET', `/jobs/${jobId}`);
    // The job may have ended right after the rescale did: its event is there then.
    if (['FINISHED', 'CANCELED', 'FAILED'].includes(status.state)) return (await find()) ?? throwEnded();
    await new Promise((r) => setTimeout(r, 200));
  }

  function throwEnded(): never {
    throw new MobiusError('RESCALE_FAILED', `job ${jobId} ended before rescale ${rescaleId} completed`);
  }
}
