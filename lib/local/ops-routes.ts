/**
 * `npm start`'s operations endpoints: `GET /status` (the status report) and
 * `GET /history/user/<id>` / `GET /history/dept/<id>` (`{ items }`, newest first; `?limit=`), as
 * JSON, for `npm run status -- --url …` and `npm run history -- --url …`.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from '../history/history';
import type { EntityKind } from '../ports';
import type { Operations } from '../status/operations';
import type { HttpApiHandler, Route } from './dev-server';

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body: `${JSON.stringify(body, null, 2)}\n` };
}

export function operationsRoutes(ops: Operations): Route[] {
  const history =
    (kind: EntityKind): HttpApiHandler =>
    async (event) => {
      const prefix = `/history/${kind}/`;
      let id: string;
      try {
        id = decodeURIComponent(event.rawPath.slice(prefix.length));
      } catch {
        return json(400, { error: 'the id is not valid percent-encoding' });
      }
      if (id === '') return json(404, { error: `not found: use ${prefix}<id>` });
      const raw = event.queryStringParameters?.limit;
      const limit = raw === undefined ? DEFAULT_HISTORY_LIMIT : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)
        return json(400, { error: `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}` });
      return json(200, { items: await ops.history(kind, id, limit) });
    };
  return [
    { method: 'GET', path: '/status', handler: async () => json(200, await ops.status()) },
    { method: 'GET', path: '/history/user', prefix: true, handler: history('user') },
    { method: 'GET', path: '/history/dept', prefix: true, handler: history('dept') },
  ];
}
