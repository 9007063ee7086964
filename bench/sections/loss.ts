import type { Bench } from '../lib/bench.js';
import type { Section } from '../lib/markdown.js';
export async function lossSection(_bench: Bench): Promise<Section> {
  return { title: 'loss', lines: ['todo'] };
}
