import type { Bench } from '../lib/bench.js';
import type { Section } from '../lib/markdown.js';
export async function attachSection(_bench: Bench): Promise<Section> {
  return { title: 'attach', lines: ['todo'] };
}
