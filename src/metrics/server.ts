// The /metrics endpoint. It listens before anything is attached, so that a
// port in use is bad input with nothing left behind; it serves the trace's
// figures once the trace hands them over, and closes with the trace.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { LeakhoundError } from '../errors.js';
import type { LiveSource } from './live-source.js';
import { MetricsRegistry } from './registry.js';

export const METRICS_PATH = '/metrics';

/** What a trace needs of the endpoint. */
export interface MetricsEndpoint {
  /** Serves these figures from now on. */
  serve(source: LiveSource): void;
  /** Stops listening and drops every connection (Prometheus keeps them alive). */
  close(): Promise<void>;
}

export class MetricsServer implements MetricsEndpoint {
  readonly #server: Server;
  #registry: MetricsRegistry | null = null;

  private constructor(server: Server) {
    this.#server = server;
    server.on('request', (request, response) => void this.#answer(request, response));
  }

  /** Listens on host:port; what stops it is bad input (exit 2). */
  static listen(host: string, port: number): Promise<MetricsServer> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)));
      server.listen({ host, port, exclusive: true }, () => resolve(new MetricsServer(server)));
    });
  }

  /** Where it listens, as a URL of its metrics. */
  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') return String(address);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}${METRICS_PATH}`;
  }

  serve(source: LiveSource): void {
    this.#registry = new MetricsRegistry(source);
  }

  close(): Promise<void> {
    this.#registry = null;
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== METRICS_PATH) return reply(response, 404, `leakhound serves ${METRICS_PATH} only\n`);
    const registry = this.#registry;
    if (registry === null) return reply(response, 503, 'leakhound is not tracing yet\n');
    try {
      const body = await registry.render();
      response.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
    } catch (error) {
      // A failed scrape is Prometheus's to see (up = 0); the trace goes on.
      reply(response, 500, `leakhound: ${(error as Error).message}\n`);
    }
  }
}

function reply(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): LeakhoundError {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new LeakhoundError('USAGE', `--metrics-port ${port}: ${where} is already in use`, 'choose another port, or stop what listens there');
    case 'EACCES':
      return new LeakhoundError('USAGE', `--metrics-port ${port}: not allowed to listen on ${where}`, 'use a port above 1023, or run as root');
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new LeakhoundError('USAGE', `--metrics-host ${host} is not an address of this machine`, 'give one of its addresses, e.g. 127.0.0.1 or 0.0.0.0');
    default:
      return new LeakhoundError('USAGE', `cannot serve metrics on ${where}: ${error.message}`, 'check --metrics-host and --metrics-port');
  }
}
