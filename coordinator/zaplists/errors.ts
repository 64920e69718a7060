/**
 * Why no zaplist could be chosen for a beam.
 *
 * Public API:
 *   class ZaplistNotFoundError   none of the names in the lookup order exists;
 *                                lists every name looked for and every source
 *   class ZaplistError           one was found but cannot be read or parsed
 *
 * PALFA failed such a job at its precheck (or, with the default list disabled,
 * never registered the file); the agent reports these to the coordinator instead of
 * searching without a zaplist.
 */

export class ZaplistNotFoundError extends Error {
  /** Every name looked for, in order. */
  readonly lookedFor: string[];
  readonly sources: string[];
  constructor(lookedFor: string[], sources: string[], note: string) {
    super(`no zaplist found in ${sources.join(", ")}: looked for ${lookedFor.join(", ")}${note}`);
    this.name = "ZaplistNotFoundError";
    this.lookedFor = lookedFor;
    this.sources = sources;
  }
}

/** A zaplist was found but cannot be used (unreadable, or not a zaplist). */
export class ZaplistError extends Error {
  readonly source: string;
  readonly location: string;
  constructor(source: string, location: string, message: string, options?: { cause?: unknown }) {
    super(`${source}: ${location}: ${message}`, options);
    this.name = "ZaplistError";
    this.source = source;
    this.location = location;
  }
}
