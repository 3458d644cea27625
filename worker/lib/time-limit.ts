/**
 * Runs `work` with a signal that aborts after `ms`, its reason an Error saying so ("it did not finish
 * within 30 s"). The timer is cleared as soon as `work` settles: a Durable Object with a timer set
 * does not hibernate, so one left running would keep a session's room awake (and billed) until it
 * fired.
 */
export async function withinTime<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`it did not finish within ${ms / 1000} s`)), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
