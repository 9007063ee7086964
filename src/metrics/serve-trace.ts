// The trace's hook: its figures are served from the moment its ledgers
// exist until it calls `end`, before the tracer's maps are closed.
import { liveSource, type LiveTrace } from './live-source.js';
import type { MetricsEndpoint } from './server.js';

export interface ServedTrace {
  /** Closes the endpoint and the labels' symbols. */
  end(): Promise<void>;
}

export function serveTrace(endpoint: MetricsEndpoint | undefined, trace: LiveTrace): ServedTrace | null {
  if (!endpoint) return null;
  const source = liveSource(trace);
  endpoint.serve(source);
  return {
    end: async () => {
      await endpoint.close();
      source.close();
    },
  };
}
