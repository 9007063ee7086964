// --metrics-port and --metrics-host, shared by `trace` and `kernel`.
import type { Argv } from 'yargs';

import { MetricsServer } from '../metrics/server.js';
import { parseNumber } from './options.js';

export function withMetricsOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('metrics-port', { type: 'string', describe: 'serve Prometheus metrics at http://HOST:PORT/metrics while tracing' })
    .option('metrics-host', { type: 'string', default: '127.0.0.1', describe: 'the address --metrics-port listens on (0.0.0.0: every one)' });
}

/** The endpoint, listening before anything is loaded or attached (a port
 * in use is bad input); null without --metrics-port. */
export async function openMetrics(argv: Record<string, unknown>): Promise<MetricsServer | null> {
  const port = parseNumber('metrics-port', argv.metricsPort === undefined ? undefined : String(argv.metricsPort), { integer: true, positive: true, max: 65535 });
  return port === null ? null : MetricsServer.listen(String(argv.metricsHost), port);
}
