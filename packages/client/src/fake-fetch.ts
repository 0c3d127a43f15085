import type { FetchRequest } from './retry.ts';

/** What a test's fake server saw: method, path and headers of each request, and its body as text. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/**
 * A fetch answering from `answer` (a small fake server) and recording every request, for the
 * client's tests; no network involved.
 */
export function fakeFetch(answer: (request: SeenRequest, index: number) => Response | Promise<Response>): { fetch: FetchRequest; seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const fetch: FetchRequest = async (request) => {
    const url = new URL(request.url);
    const recorded = { method: request.method, path: url.pathname + url.search, headers: new Headers(request.headers), body: await request.text() };
    seen.push(recorded);
    return answer(recorded, seen.length - 1);
  };
  return { fetch, seen };
}

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** A problem+json response as OrderStream answers it. */
export function problem(status: number, slug: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: `https://orderstream.dev/problems/${slug}`, title: slug, status, ...extra }), {
    status, headers: { 'content-type': 'application/problem+json', ...headers },
  });
}
