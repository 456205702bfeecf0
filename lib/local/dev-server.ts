/**
 * `npm start`'s HTTP front: a node:http server that turns each request into the same API Gateway
 * HTTP API (payload 2.0) event the Lambda receives and calls the same handler, so what works
 * here works deployed.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Route {
  method: string;
  path: string;
  /** Also every path below `path` (`/history/user` serves `/history/user/<id>`); the handler reads `rawPath`. */
  prefix?: boolean;
  handler: HttpApiHandler;
}

/** Requests larger than this are cut off before reaching the handler, as API Gateway caps payloads (10 MB). */
const MAX_READ_BYTES = 10 * 1024 * 1024;

function toHttpApiEvent(req: IncomingMessage, body: Buffer, routeKey: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const queryStringParameters: Record<string, string> = {};
  for (const [k, v] of url.searchParams) queryStringParameters[k] = queryStringParameters[k] === undefined ? v : `${queryStringParameters[k]},${v}`;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const textual = /json|text|x-www-form-urlencoded/i.test(headers['content-type'] ?? 'application/json');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(queryStringParameters).length ? queryStringParameters : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `local-${now.getTime()}-${Math.random().toString(36).slice(2, 8)}`,
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : textual ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !textual,
  };
}

export function startDevServer(routes: Route[], port: number, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_READ_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = routes.find((r) => r.method === req.method && (r.path === path || (r.prefix === true && path.startsWith(`${r.path}/`))));
      if (!route) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      if (size > MAX_READ_BYTES) {
        res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"payload too large"}');
        return;
      }
      route
        .handler(toHttpApiEvent(req, Buffer.concat(chunks), `${route.method} ${route.path}`))
        .then((result) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
          const body = result.body ?? '';
          res.writeHead(result.statusCode ?? 200, headers).end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
        })
        .catch(() => {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
        });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address() as AddressInfo;
      resolve({ server, url: `http://${host}:${actual}` });
    });
  });
}
