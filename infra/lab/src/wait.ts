/** Poll `check` until it returns a truthy value; the error names what was awaited and the last error seen. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? last.message : last ? String(last) : "";
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${reason ? ` (last error: ${reason})` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
