// The parts of a kernel-mode JSON report the end-to-end tests read.

export interface KernelFrame {
  address: string;
  symbol: string | null;
  module: string | null;
}

export interface KernelStack {
  bytes: number;
  allocations: number;
  frames: KernelFrame[];
  cache?: string;
}

export interface KernelReport {
  schema: string;
  mode: string;
  target: { pid: number | null };
  totals: { lostEvents: number; failedStacks: number };
  stacks: KernelStack[];
}
