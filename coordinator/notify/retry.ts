// Delivery with retries: a few tries with exponential backoff, then give up.

/** A failure that the same request would get again (SMTP 5xx, HTTP 4xx): not retried. */
export class PermanentFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentFailure";
  }
}

export interface RetryPolicy {
  /** tries in all, the first one included */
  tries: number;
  /** wait before the 2nd try; doubles each time */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { tries: 4, backoffMs: 2_000, maxBackoffMs: 30_000 };

export function backoffFor(policy: RetryPolicy, failedTries: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (failedTries - 1));
}

/** Resolves after `ms`, or at once (false) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(slept);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
