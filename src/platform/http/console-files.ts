import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import type { HttpApp, RouteRegistration } from './app.ts';
import { HttpProblem } from './problem.ts';

/**
 * The operations console's content policy: its own scripts and styles only, nothing inline, never
 * framed. Vite builds it without inline script or style (console/vite.config.ts), so nothing is relaxed.
 */
export const consoleContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** A path below the console that names a file: plain names, no dot segments. */
const filePath = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\.[A-Za-z0-9]+$/;

/**
 * Serves the built console (`console/dist`) at `/console`: files by name (hashed assets cached for a
 * year, as their names change with their content), and index.html, never cached, for every other
 * path below it, so that the page's own routes survive a reload. Without a build, 503 saying how to
 * make one. `distDir` is read on each request, so a build made while the process runs is served.
 */
export function consoleRoutes(distDir: string): RouteRegistration {
  return (app: HttpApp): void => {
    app.get('/console', { schema: { hide: true } }, (_request, reply) => sendIndex(reply, distDir));
    app.get('/console/*', { schema: { hide: true } }, async (request, reply) => {
      const wildcard = (request.params as { '*'?: string })['*'] ?? '';
      if (!filePath.test(wildcard)) return sendIndex(reply, distDir);
      const file = path.join(distDir, wildcard);
      const found = await stat(file).catch(() => undefined);
      if (found?.isFile() !== true) {
        await indexHtml(distDir); // a missing build is told as such, not as a missing file
        throw new HttpProblem({ status: 404, slug: 'not-found', title: 'Not found', detail: `The console has no file ${wildcard}.` });
      }
      const type = contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
      const immutable = wildcard.startsWith('assets/');
      return consoleHeaders(reply)
        .type(type)
        .header('content-length', String(found.size))
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(createReadStream(file));
    });
  };
}

function consoleHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', consoleContentSecurityPolicy).header('x-content-type-options', 'nosniff');
}

async function indexHtml(distDir: string): Promise<Buffer> {
  const html = await readFile(path.join(distDir, 'index.html')).catch(() => undefined);
  if (html !== undefined) return html;
  throw new HttpProblem({
    status: 503, slug: 'console-not-built', title: 'The operations console is not built',
    detail: 'Build it with "npm run build:console" (npm install does so when the console/ sources are present), then reload.',
  });
}

async function sendIndex(reply: FastifyReply, distDir: string): Promise<FastifyReply> {
  const html = await indexHtml(distDir);
  return consoleHeaders(reply).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
}
