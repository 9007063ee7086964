// Matching a reported symbol to an expected function name. Whether a C++
// name carries its parameter list ("Widget::make(long)") is the symbolizer's
// choice, so both forms match; nothing else does.
export function isSymbol(reported: string | null | undefined, name: string): boolean {
  if (reported == null) return false;
  return reported === name || reported.startsWith(`${name}(`);
}
