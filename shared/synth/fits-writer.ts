/**
 * Writing FITS files: header cards (including the real numbers that the reader's
 * formatValueCard leaves out), header blocks, binary-table column layouts, and a
 * file writer that streams rows to a temporary name and renames it when complete.
 *
 *   realText(x)                              a double as FITS fixed-format text, exact
 *   card(keyword, value, comment?)           an 80-character value card
 *   commentCard(text) / historyCard(text)
 *   headerBytes(cards)                       cards + END, padded with blanks to 2880
 *   interface TableColumn { name, form, repeat, unit?, comment? }
 *   binTableCards(columns, rows, extname)    XTENSION..TFIELDS, TTYPE/TFORM/TUNIT, EXTNAME
 *   rowLayout(columns)                       byte offset of each column, bytes per row
 *   class FitsFileWriter                     write(bytes) ..., finish() pads and renames
 *
 * A real number is written with the shortest decimal text that reads back as the
 * same double (so TBIN = 6.5476E-05 reads back bit for bit), with an upper-case E
 * and always a decimal point, right-justified to column 30 as CFITSIO writes.
 */

import fs from "node:fs";
import path from "node:path";
import { BLOCK_LENGTH, CARD_LENGTH, END_CARD, formatValueCard } from "../psrfits/cards";

export type CardInput = string | number | boolean | { real: number };

export function realText(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`FITS cannot hold ${x} as a real value`);
  let s = String(x);
  const e = s.indexOf("e");
  let mantissa = e < 0 ? s : s.slice(0, e);
  const exponent = e < 0 ? "" : "E" + s.slice(e + 1);
  if (!mantissa.includes(".")) mantissa += ".0";
  s = mantissa + exponent;
  return s;
}

/**
 * One value card. Integers and `{ real: x }` differ: 2000 is written "2000",
 * { real: 2000 } as "2000.0" (PSRFITS declares EQUINOX, OBSFREQ... as reals).
 */
export function card(keyword: string, value: CardInput, comment = ""): string {
  if (typeof value === "object") {
    const text = realText(value.real).padStart(20);
    let c = `${keyword.padEnd(8)}= ${text}`;
    if (comment !== "") c += ` / ${comment}`;
    if (c.length > CARD_LENGTH) {
      if (keyword.length + 2 + text.trim().length + 1 > CARD_LENGTH) throw new Error(`${keyword}: value too long for a card`);
      c = c.slice(0, CARD_LENGTH);
    }
    return c.padEnd(CARD_LENGTH);
  }
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new Error(`${keyword}: ${value} is not an integer (use { real: ${value} })`);
  }
  if (typeof value === "string" && value.length > 68) throw new Error(`${keyword}: string value longer than 68 characters`);
  return formatValueCard(keyword, value, comment);
}

export function commentCard(text: string): string {
  return `COMMENT ${text}`.slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

export function historyCard(text: string): string {
  return `HISTORY ${text}`.slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

/** A header: the cards, END, then blanks to a whole number of 2880-byte blocks. */
export function headerBytes(cards: readonly string[]): Buffer {
  for (const c of cards) {
    if (c.length !== CARD_LENGTH) throw new Error(`internal error: card of ${c.length} characters: ${JSON.stringify(c)}`);
    if (!/^[\x20-\x7e]*$/.test(c)) throw new Error(`non-ASCII text in card ${JSON.stringify(c.slice(0, 8))}`);
  }
  const text = [...cards, END_CARD].join("");
  const out = Buffer.alloc(Math.ceil(text.length / BLOCK_LENGTH) * BLOCK_LENGTH, 0x20);
  out.write(text, 0, "latin1");
  return out;
}

/** Binary-table element types we write: 8-byte real, 4-byte real, 4-byte int, unsigned byte. */
export type ColumnForm = "D" | "E" | "J" | "B";
const FORM_BYTES: Record<ColumnForm, number> = { D: 8, E: 4, J: 4, B: 1 };

export interface TableColumn {
  name: string;
  form: ColumnForm;
  repeat: number;
  unit?: string;
  /** Comment of the TTYPE card. */
  comment?: string;
}

export interface RowLayout {
  rowBytes: number;
  offsets: Map<string, number>;
}

export function rowLayout(columns: readonly TableColumn[]): RowLayout {
  const offsets = new Map<string, number>();
  let at = 0;
  for (const c of columns) {
    if (offsets.has(c.name)) throw new Error(`internal error: column ${c.name} twice`);
    offsets.set(c.name, at);
    at += FORM_BYTES[c.form] * c.repeat;
  }
  return { rowBytes: at, offsets };
}

/** The mandatory BINTABLE cards and the column definitions (no END). */
export function binTableCards(columns: readonly TableColumn[], rows: number, extname: string): string[] {
  const { rowBytes } = rowLayout(columns);
  const out = [
    card("XTENSION", "BINTABLE", "binary table extension"),
    card("BITPIX", 8, "array data type"),
    card("NAXIS", 2, "number of array dimensions"),
    card("NAXIS1", rowBytes, "length of dimension 1"),
    card("NAXIS2", rows, "length of dimension 2"),
    card("PCOUNT", 0, "number of group parameters"),
    card("GCOUNT", 1, "number of groups"),
    card("TFIELDS", columns.length, "number of table fields"),
  ];
  columns.forEach((c, i) => {
    const n = i + 1;
    out.push(card(`TTYPE${n}`, c.name, c.comment ?? ""));
    out.push(card(`TFORM${n}`, `${c.repeat}${c.form}`));
    if (c.unit !== undefined) out.push(card(`TUNIT${n}`, c.unit));
  });
  out.push(card("EXTNAME", extname, "extension name"));
  return out;
}

/**
 * Streams a FITS file to `<dir>/.<name>.<pid>.tmp` and renames it to `dest` in
 * finish(), after padding the last HDU's data with zeros to a whole block; abort()
 * removes the temporary file. A crash or an error never leaves a partial file
 * under the final name.
 */
export class FitsFileWriter {
  readonly dest: string;
  private readonly tmp: string;
  private fd: number | null;
  private written = 0;

  constructor(dest: string) {
    this.dest = dest;
    this.tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.tmp`);
    this.fd = fs.openSync(this.tmp, "w");
  }

  get bytesWritten(): number {
    return this.written;
  }

  write(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`internal error: ${this.dest} already closed`);
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
    this.written += bytes.length;
  }

  /** Pad to a whole 2880-byte block, close, rename into place; returns the file's size. */
  finish(): number {
    const rest = this.written % BLOCK_LENGTH;
    if (rest !== 0) this.write(Buffer.alloc(BLOCK_LENGTH - rest));
    fs.closeSync(this.fd!);
    this.fd = null;
    fs.renameSync(this.tmp, this.dest);
    return this.written;
  }

  abort(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already failing; the unlink below is what matters
      }
      this.fd = null;
    }
    fs.rmSync(this.tmp, { force: true });
  }
}
