/** The errno name (ENOENT, EPIPE...) of a failed system call, if it was one. */
export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** A failed call's message without the call and path Node appends:
 * "ENOSPC: no space left on device", not "..., write '/x'". */
export function systemMessage(error: unknown): string {
  const message = (error as Error).message;
  return errnoCode(error) ? message.replace(/^(E[A-Z0-9]+: [^,]*), \w+(?: '.*')?$/s, '$1') : message;
}
