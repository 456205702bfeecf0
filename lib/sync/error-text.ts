/** The message of a thrown value, for reports and logs (anything may be thrown, not only Errors). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
