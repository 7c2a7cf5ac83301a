/** Retries `probe` every 250 ms until it resolves or `timeoutMs` passes; the last error explains a timeout. */
export async function eventually<T>(what: string, probe: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : String(last)}`);
}
