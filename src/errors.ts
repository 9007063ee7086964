export class LeakhoundError extends Error { constructor(readonly code: string, message: string, readonly hint?: string) { super(message); this.name = 'LeakhoundError'; } }
