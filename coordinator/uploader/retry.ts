/**
 * Retrying an upload while the results DB is unavailable.
 *
 * Public API:
 *   interface RetryOptions { attempts?, initialMs?, maxMs?, sleep?, onRetry? }
 *   withDbRetry(fn, options?): Promise<T>
 *
 * Only DbUnavailable (and raw driver errors classifyDbError calls DbUnavailable) is
 * retried, with exponential backoff and full jitter so that several coordinators
 * coming back after a DB restart do not all hit it in the same millisecond.
 * UploadError and anything unexpected are thrown at once: retrying a checksum or
 * compare failure in a loop would only repeat it. Retrying the whole upload is
 * safe because upload() is idempotent per (beam, version).
 */

import { DbUnavailable, asDbUnavailable, classifyDbError } from "./errors";

export interface RetryOptions {
  /** Total tries, the first included (default 5). */
  attempts?: number;
  /** First pause (default 500 ms), doubled each time up to maxMs (default 30 s). */
  initialMs?: number;
  maxMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (err: DbUnavailable, attempt: number, waitMs: number) => void;
}

export async function withDbRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (classifyDbError(e) !== "DbUnavailable" || attempt >= attempts) throw asDbUnavailable(e);
      const wait = Math.random() * Math.min(max, initial * 2 ** (attempt - 1));
      options.onRetry?.(asDbUnavailable(e) as DbUnavailable, attempt, wait);
      await sleep(wait);
    }
  }
}
