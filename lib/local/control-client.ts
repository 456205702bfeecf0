/**
 * The commands' side of `npm start`'s control routes (./control.ts): find the running server
 * through its control file, read its status, start a reconcile in it and follow the run.
 */
import { loadDeploymentConfig } from '../config';
import { type ControlFile, controlFilePath, type LocalRunState, type LocalStatus, readControlFile } from './control';

type Env = Record<string, string | undefined>;

export class LocalControl {
  private constructor(
    readonly url: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  /**
   * The `npm start` that uses this environment's STATE_FILE, when it runs and answers; undefined
   * when there is no control file or nothing answers at its URL (a server that has stopped).
   */
  static async find(env: Env, fetchImpl: typeof fetch = fetch): Promise<{ control: LocalControl; status: LocalStatus } | undefined> {
    let info: ControlFile | undefined;
    try {
      info = readControlFile(controlFilePath(loadDeploymentConfig(env).stateFile));
    } catch {
      return undefined;
    }
    if (!info) return undefined;
    const control = new LocalControl(info.url, info.token, fetchImpl);
    try {
      return { control, status: await control.status() };
    } catch {
      return undefined;
    }
  }

  status(): Promise<LocalStatus> {
    return this.call<LocalStatus>('GET', '/local/status');
  }

  /** Starts a reconcile in `npm start`; resolves to its run id. */
  async startReconcile(opts: { dryRun: boolean; allowDeletes?: boolean }): Promise<string> {
    return (await this.call<{ runId: string }>('POST', '/local/reconcile', opts)).runId;
  }

  /** The latest reconcile started through the control routes. */
  reconcileState(): Promise<LocalRunState> {
    return this.call<LocalRunState>('GET', '/local/reconcile');
  }

  private async call<T>(method: string, path: string, body?: object): Promise<T> {
    const res = await this.fetchImpl(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`npm start answered HTTP ${res.status}: ${answer.error ?? 'no reason given'}`);
    return answer;
  }
}
