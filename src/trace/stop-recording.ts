// The end of a trace: the programs stop recording all at the same moment,
// before they come off one link at a time (a uprobe's link per probe before
// Linux 6.6 takes seconds), so allocations and frees end together. Both
// objects keep the flag, recording_stopped, alone in one section
// (bpf/user-alloc.bpf.c, bpf/alloc-table.bpf.h for the kernel's).
import type { NativeTracer } from '../native/binding.js';

/** The BPF section that holds recording_stopped alone. */
const SECTION = '.data.stop';

export function stopRecording(tracer: NativeTracer): void {
  tracer.update(SECTION, 0, Buffer.of(1));
}
