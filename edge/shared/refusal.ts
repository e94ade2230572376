/**
 * The answer to a request the connection guard turns away: 503 when everyone together is over a limit, 429 when
 * one client is, with Retry-After, as a small HTML page, JSON or text as the client asked, and the connection closed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a refused client is asked to wait before sending again. */
const RETRY_AFTER_SECONDS = 1;

export type Refusal = 'busy' | 'rate_limited';

export function answerRefused(request: IncomingMessage, response: ServerResponse, refusal: Refusal): void {
  const busy = refusal === 'busy';
  const message = busy
    ? 'The service is busy. Try again in a moment.'
    : 'Too many requests from your address at once. Try again in a moment.';
  const accept = request.headers.accept ?? '';
  const [type, body] =
    /\bapplication\/json\b/.test(accept) && !/\btext\/html\b/.test(accept)
      ? ['application/json', JSON.stringify({ error: busy ? 'unavailable' : 'rate_limited', message })]
      : /\btext\/html\b/.test(accept)
        ? [
            'text/html',
            `<!doctype html><meta charset="utf-8"><title>${message}</title><p>${message}</p><p><a href="javascript:history.back()">Back</a></p>`,
          ]
        : ['text/plain', message];
  // Already answering (the app started): nothing can be said any more, so the connection ends.
  if (response.headersSent) return void request.socket.destroy();
  response.writeHead(busy ? 503 : 429, {
    'content-type': `${type}; charset=utf-8`,
    'retry-after': String(RETRY_AFTER_SECONDS),
    'cache-control': 'no-store',
    connection: 'close',
  });
  response.end(`${body}\n`);
}
