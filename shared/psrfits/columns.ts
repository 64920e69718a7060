/**
 * A binary table's column layout from its TTYPEn / TFORMn / TDIMn / TUNITn cards.
 *
 * Public API:
 *   interface TableColumn { number, name, tform, type, repeat, bytes, offset, tdim, unit }
 *   parseTform(tform): { repeat, type, bytes }
 *   parseTdim(tdim): number[]
 *   tableColumns(header): TableColumn[]     checks that the widths add up to NAXIS1
 *
 * The byte offset of each column inside a row is what lets us read one row's
 * DAT_FREQ (for the channel frequencies) without CFITSIO, and it is how we check
 * that the header is self-consistent: a table whose columns do not add up to
 * NAXIS1 would make every later offset wrong.
 */

import { PsrfitsError } from "./errors";
import { type FitsHeader } from "./fits-header";

export interface TableColumn {
  /** 1-based column number (the n of TTYPEn), as CFITSIO and readfile count them. */
  number: number;
  /** TTYPEn with trailing blanks removed, e.g. "DATA". */
  name: string;
  /** TFORMn as written, e.g. "67584B". */
  tform: string;
  /** The FITS data type letter: L X B I J K A E D C M P Q. */
  type: string;
  /** Element count (bits for X). */
  repeat: number;
  /** Width of the field in a row, bytes. */
  bytes: number;
  /** Byte offset of the field from the start of a row. */
  offset: number;
  /** TDIMn as numbers (FITS order, fastest-varying first), if present. */
  tdim: number[] | null;
  unit: string | null;
}

// Bytes per element of each binary-table type (FITS Standard table 18).
const ELEMENT_BYTES: Record<string, number> = {
  L: 1,
  B: 1,
  I: 2,
  J: 4,
  K: 8,
  A: 1,
  E: 4,
  D: 8,
  C: 8,
  M: 16,
  P: 8,
  Q: 16,
};

export function parseTform(tform: string): { repeat: number; type: string; bytes: number } {
  const m = /^\s*(\d*)([LXBIJKAEDCMPQ])/.exec(tform);
  if (m === null) throw new Error(`unknown TFORM ${JSON.stringify(tform)}`);
  const repeat = m[1] === "" ? 1 : Number(m[1]);
  const type = m[2];
  let bytes: number;
  if (type === "X") bytes = Math.ceil(repeat / 8);
  // A variable-length array descriptor takes one slot whatever its repeat (0 or 1).
  else if (type === "P" || type === "Q") bytes = ELEMENT_BYTES[type] * Math.min(repeat, 1);
  else bytes = ELEMENT_BYTES[type] * repeat;
  return { repeat, type, bytes };
}

export function parseTdim(tdim: string): number[] {
  const m = /^\s*\(([\d\s,]+)\)\s*$/.exec(tdim);
  if (m === null) throw new Error(`malformed TDIM ${JSON.stringify(tdim)}`);
  return m[1].split(",").map((s) => Number(s.trim()));
}

export function tableColumns(header: FitsHeader): TableColumn[] {
  const tfields = header.int("TFIELDS");
  const columns: TableColumn[] = [];
  let offset = 0;
  for (let n = 1; n <= tfields; n++) {
    const tform = header.string(`TFORM${n}`);
    let parsed: ReturnType<typeof parseTform>;
    try {
      parsed = parseTform(tform);
    } catch (err) {
      throw new PsrfitsError(header.file, "bad-header", `TFORM${n} in the ${header.label} header: ${(err as Error).message}`);
    }
    const tdimText = header.optString(`TDIM${n}`);
    let tdim: number[] | null = null;
    if (tdimText !== undefined) {
      try {
        tdim = parseTdim(tdimText);
      } catch (err) {
        throw new PsrfitsError(header.file, "bad-header", `TDIM${n} in the ${header.label} header: ${(err as Error).message}`);
      }
    }
    columns.push({
      number: n,
      name: (header.optString(`TTYPE${n}`) ?? "").trim(),
      tform,
      type: parsed.type,
      repeat: parsed.repeat,
      bytes: parsed.bytes,
      offset,
      tdim,
      unit: header.optString(`TUNIT${n}`) ?? null,
    });
    offset += parsed.bytes;
  }
  const naxis1 = header.int("NAXIS1");
  if (offset !== naxis1) {
    throw new PsrfitsError(
      header.file,
      "bad-header",
      `the ${header.label} table's ${tfields} columns add up to ${offset} bytes per row but NAXIS1 is ${naxis1}`,
    );
  }
  return columns;
}
