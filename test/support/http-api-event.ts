import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** An API Gateway HTTP API (payload 2.0) request to the callback route, as Lambda receives it (`contentType: null`: no such header). */
export function callbackEvent(
  query: Record<string, string> | URLSearchParams,
  body: string,
  opts: { isBase64Encoded?: boolean; requestId?: string; contentType?: string | null } = {},
): APIGatewayProxyEventV2 {
  const q = query instanceof URLSearchParams ? Object.fromEntries(query) : query;
  return {
    version: '2.0',
    routeKey: 'POST /dingtalk/callback',
    rawPath: '/dingtalk/callback',
    rawQueryString: new URLSearchParams(q).toString(),
    headers: opts.contentType === null ? {} : { 'content-type': opts.contentType ?? 'application/json' },
    queryStringParameters: q,
    requestContext: {
      requestId: opts.requestId ?? 'req-1',
      http: { method: 'POST', path: '/dingtalk/callback', sourceIp: '203.119.1.1' },
    } as APIGatewayProxyEventV2['requestContext'],
    body,
    isBase64Encoded: opts.isBase64Encoded ?? false,
  };
}
