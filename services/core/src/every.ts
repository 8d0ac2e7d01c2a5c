/** Runs `step` every `intervalMs` (never two at once) until the returned stop function is called. */
export function every(
  intervalMs: number,
  step: () => Promise<unknown>,
  onError: (err: unknown) => void,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = step()
      .catch(onError)
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref(); // never the reason a process stays up
  return async () => {
    clearInterval(timer);
    await running;
  };
}
