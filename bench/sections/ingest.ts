import type { Bench } from '../lib/bench.js';
import type { Section } from '../lib/markdown.js';
export async function ingestSection(_bench: Bench): Promise<Section> {
  return { title: 'ingest', lines: ['todo'] };
}
