/** The accounts bench's HTTP client. */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';

/**
 * The measuring client: plain node:http with keep-alive and no socket limit (one connection per client that is
 * waiting, as a thousand browsers would have), far lighter per request than fetch, so it is not what is measured.
 */
const clientAgent = new HttpAgent({ keepAlive: true, maxSockets: Infinity });

export function httpJson(
  url: string,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
  localAddress?: string,
): Promise<{ status: number; json: unknown }> {
  return new Promise((done, fail) => {
    const options = {
      method,
      headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
      agent: clientAgent,
      ...(localAddress ? { localAddress } : {}),
    };
    const request = httpRequest(url, options, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          done({ status: response.statusCode ?? 0, json: JSON.parse(text) });
        } catch (error) {
          fail(error);
        }
      });
      response.on('error', fail);
    });
    // A browser sends a request again when a kept-alive connection it reused was closed before any answer (the
    // server had not read it: meet-auth closes only idle connections); Node's client leaves that to the caller.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (request.reusedSocket && error.code === 'ECONNRESET')
        httpJson(url, method, headers, body, localAddress).then(done, fail);
      else fail(error);
    });
    request.end(body);
  });
}

/** Closes the client's kept-alive connections (at the end of the bench). */
export function closeClient(): void {
  clientAgent.destroy();
}
