// Timers of many agents spread out so that they do not fire in step (after a
// coordinator restart, every agent reconnects at once otherwise).

/** x, moved at random by up to ±spread of itself. */
export const jitter = (x: number, spread: number): number => x * (1 - spread + Math.random() * 2 * spread);
