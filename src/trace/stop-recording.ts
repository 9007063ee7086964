// The end of a user trace: bpf/user-alloc.bpf.c's programs stop recording
// all at the same moment, before their probes come off one by one (one
// link per probe before Linux 6.6 takes seconds), so allocations and frees
// end together.
import type { NativeTracer } from '../native/binding.js';

/** The BPF section that holds recording_stopped alone. */
const SECTION = '.data.stop';

export function stopRecording(tracer: NativeTracer): void {
  tracer.update(SECTION, 0, Buffer.of(1));
}
