/** leakhound's one error class. The addon throws it too (binding.ts hands it
 * over with setErrorClass): then `errno` is the failed call's error number
 * and `log` everything libbpf said while the operation failed. */
export class LeakhoundError extends Error {
  /** The OS error number, where a system call failed (native errors only). */
  declare errno?: number;
  /** libbpf's whole output for the failed operation, verifier log included (native errors only). */
  declare log?: string;

  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'LeakhoundError';
  }
}
