/**
 * What `npm run status` and `npm run history` ask, and `npm start` answers on `GET /status` and
 * `GET /history/(user|dept)/<id>`: one interface over three places the answers come from, the
 * running local service, a deployed stage (lib/compose/aws-operations.ts) or a local server's
 * HTTP endpoints.
 */
import type { HistoryItem, HistoryStore } from '../history/history';
import type { EntityKind, StateStore } from '../ports';
import { isHistoryAnswer, isStatusReport } from './answer-shape';
import type { FailureIndex } from './failures';
import { type QueueStatusSource, type StatusReport, statusReport } from './status';

export interface Operations {
  status(): Promise<StatusReport>;
  /** One entity's history, newest first. */
  history(kind: EntityKind, id: string, limit?: number): Promise<HistoryItem[]>;
}

export interface OperationsParts {
  queue: QueueStatusSource;
  reports: Pick<StateStore, 'latestReport'>;
  failures: FailureIndex;
  history: HistoryStore;
}

export function operationsOf(parts: OperationsParts): Operations {
  return {
    status: () => statusReport(parts),
    history: (kind, id, limit) => parts.history.history(kind, id, limit),
  };
}

/** An answer from a local server that is not the report asked for. */
export class OperationsHttpError extends Error {
  override readonly name = 'OperationsHttpError';
}

/** The endpoints of a running `npm start` (or anything serving them). */
export function httpOperations(baseUrl: string, fetchImpl: typeof fetch = globalThis.fetch): Operations {
  const base = baseUrl.replace(/\/+$/, '');
  const get = async <T>(path: string, isExpected: (v: unknown) => v is T, what: string): Promise<T> => {
    const url = `${base}${path}`;
    let res: Response;
    try {
      res = await fetchImpl(url, { signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
      throw new OperationsHttpError(`no answer from ${url}${cause} (is npm start running there?)`);
    }
    const text = await res.text();
    if (!res.ok) throw new OperationsHttpError(`GET ${url} answered HTTP ${res.status}: ${text.trim().slice(0, 200)}`);
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new OperationsHttpError(`GET ${url} did not answer JSON`);
    }
    if (!isExpected(answer)) throw new OperationsHttpError(`GET ${url} did not answer ${what} (is it npm start's URL?)`);
    return answer;
  };
  return {
    status: () => get('/status', isStatusReport, 'a status report'),
    history: async (kind, id, limit) => {
      // URL parsers treat `.` and `..` as dot segments even percent-encoded (%2E), so the request
      // would reach another path: refused rather than answered with someone else's history.
      if (id === '.' || id === '..') throw new OperationsHttpError(`the id ${JSON.stringify(id)} cannot be asked for over HTTP; read it with --stage`);
      const query = limit === undefined ? '' : `?limit=${limit}`;
      return (await get(`/history/${kind}/${encodeURIComponent(id)}${query}`, isHistoryAnswer, 'a history')).items;
    },
  };
}
