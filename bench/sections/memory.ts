import type { Bench } from '../lib/bench.js';
import type { Section } from '../lib/markdown.js';
export async function memorySection(_bench: Bench): Promise<Section> {
  return { title: 'memory', lines: ['todo'] };
}
