/**
 * One HDU's header: its cards, where it sits in the file, and typed look-ups.
 *
 * Public API:
 *   class FitsHeader
 *     cards, offset (byte of its first block), byteLength (multiple of 2880)
 *     has(key) / card(key)
 *     string(key) / int(key) / float(key) / bool(key)       required: PsrfitsError if absent or mistyped
 *     optString / optInt / optFloat / optBool(key)          undefined if absent
 *     dataBytes(): number                                   |BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1*...*NAXISn)
 *
 * Required look-ups throw PsrfitsError("bad-header") naming the HDU and keyword, so
 * a header missing NSBLK says exactly that instead of yielding NaN samples later.
 * A float look-up accepts an integer card (PSRFITS writers print "TBIN = 1" or
 * "OBSBW = 100" freely); an int look-up does not accept a float.
 */

import { type FitsCard } from "./cards";
import { PsrfitsError } from "./errors";

export class FitsHeader {
  readonly file: string;
  /** "primary" or the EXTNAME (or "HDU n" if it has none), for messages. */
  readonly label: string;
  readonly cards: FitsCard[];
  /** Byte offset of the header's first block in the file. */
  readonly offset: number;
  /** Length of the header in bytes, END card and padding included. */
  readonly byteLength: number;
  private readonly byKey = new Map<string, FitsCard>();

  constructor(file: string, label: string, cards: FitsCard[], offset: number, byteLength: number) {
    this.file = file;
    this.label = label;
    this.cards = cards;
    this.offset = offset;
    this.byteLength = byteLength;
    for (const c of cards) {
      // The first occurrence wins, as with CFITSIO's ffgkey.
      if (c.value !== null && !this.byKey.has(c.keyword)) this.byKey.set(c.keyword, c);
    }
  }

  /** Byte offset just after the header, where this HDU's data begin. */
  get dataOffset(): number {
    return this.offset + this.byteLength;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  card(key: string): FitsCard | undefined {
    return this.byKey.get(key);
  }

  optString(key: string): string | undefined {
    const v = this.byKey.get(key)?.value;
    if (v === undefined || v === null || v.kind === "undefined") return undefined;
    if (v.kind !== "string") throw this.mistyped(key, "a string");
    return v.value;
  }

  optInt(key: string): number | undefined {
    const v = this.byKey.get(key)?.value;
    if (v === undefined || v === null || v.kind === "undefined") return undefined;
    if (v.kind !== "int") throw this.mistyped(key, "an integer");
    return v.value;
  }

  optFloat(key: string): number | undefined {
    const v = this.byKey.get(key)?.value;
    if (v === undefined || v === null || v.kind === "undefined") return undefined;
    if (v.kind !== "float" && v.kind !== "int") throw this.mistyped(key, "a number");
    return v.value;
  }

  /** The number's text as written in the card (for exact decimal arithmetic). */
  optNumberText(key: string): string | undefined {
    const v = this.byKey.get(key)?.value;
    if (v === undefined || v === null || v.kind === "undefined") return undefined;
    if (v.kind !== "float" && v.kind !== "int") throw this.mistyped(key, "a number");
    return v.text;
  }

  optBool(key: string): boolean | undefined {
    const v = this.byKey.get(key)?.value;
    if (v === undefined || v === null || v.kind === "undefined") return undefined;
    if (v.kind !== "bool") throw this.mistyped(key, "T or F");
    return v.value;
  }

  string(key: string): string {
    return this.required(key, this.optString(key));
  }

  int(key: string): number {
    return this.required(key, this.optInt(key));
  }

  float(key: string): number {
    return this.required(key, this.optFloat(key));
  }

  bool(key: string): boolean {
    return this.required(key, this.optBool(key));
  }

  /** Size of the HDU's data (table plus heap) in bytes, before padding to 2880. */
  dataBytes(): number {
    const naxis = this.int("NAXIS");
    if (naxis === 0) return 0;
    let product = 1;
    for (let i = 1; i <= naxis; i++) product *= this.int(`NAXIS${i}`);
    const bitpix = this.int("BITPIX");
    const pcount = this.optInt("PCOUNT") ?? 0;
    const gcount = this.optInt("GCOUNT") ?? 1;
    return (Math.abs(bitpix) / 8) * gcount * (pcount + product);
  }

  private required<T>(key: string, value: T | undefined): T {
    if (value === undefined) {
      throw new PsrfitsError(this.file, "bad-header", `the ${this.label} header has no ${key} keyword`);
    }
    return value;
  }

  private mistyped(key: string, wanted: string): PsrfitsError {
    const found = this.byKey.get(key)?.image.slice(10).trim() ?? "";
    return new PsrfitsError(this.file, "bad-header", `${key} in the ${this.label} header should be ${wanted}, found ${JSON.stringify(found)}`);
  }
}
