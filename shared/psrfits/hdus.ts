/**
 * Walk a FITS file's HDUs by reading only their header blocks.
 *
 * Public API:
 *   readHeaderAt(fd, file, offset, fileSize, label): FitsHeader
 *   readPrimaryHeader(fd, file, fileSize): FitsHeader
 *   findExtension(fd, file, fileSize, extname, xtension): { header, index, seen }
 *   paddedLength(bytes): number        bytes rounded up to a whole 2880-byte block
 *
 * A Mock beam is 1-4 GB; the headers are a few blocks. Reading with positioned
 * reads means we never touch the data, and we can still check the file's length
 * against what the headers say (the truncation test in psrfits-header.ts).
 */

import fs from "node:fs";
import { BLOCK_LENGTH, CARD_LENGTH, CARDS_PER_BLOCK, CardSyntaxError, type FitsCard, parseCard } from "./cards";
import { PsrfitsError } from "./errors";
import { FitsHeader } from "./fits-header";

export function paddedLength(bytes: number): number {
  return Math.ceil(bytes / BLOCK_LENGTH) * BLOCK_LENGTH;
}

function readBlock(fd: number, file: string, offset: number): Buffer {
  const buf = Buffer.alloc(BLOCK_LENGTH);
  let got = 0;
  while (got < BLOCK_LENGTH) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, got, BLOCK_LENGTH - got, offset + got);
    } catch (err) {
      throw new PsrfitsError(file, "io", `cannot read at byte ${offset + got}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (n === 0) break;
    got += n;
  }
  return got === BLOCK_LENGTH ? buf : buf.subarray(0, got);
}

/**
 * Read the header that starts at `offset`, block by block, up to its END card.
 * A header that reaches the end of the file first is "no-end".
 */
export function readHeaderAt(fd: number, file: string, offset: number, fileSize: number, label: string): FitsHeader {
  const cards: FitsCard[] = [];
  let pos = offset;
  for (;;) {
    if (pos >= fileSize) {
      throw new PsrfitsError(file, "no-end", `the ${label} header starting at byte ${offset} has no END card (the file ends at byte ${fileSize})`);
    }
    const block = readBlock(fd, file, pos);
    if (block.length < BLOCK_LENGTH) {
      throw new PsrfitsError(
        file,
        "no-end",
        `the ${label} header starting at byte ${offset} has no END card: its block at byte ${pos} is cut ` + `short (${block.length} of ${BLOCK_LENGTH} bytes)`,
      );
    }
    pos += BLOCK_LENGTH;
    for (let i = 0; i < CARDS_PER_BLOCK; i++) {
      const image = block.toString("latin1", i * CARD_LENGTH, (i + 1) * CARD_LENGTH);
      if (image.startsWith("END") && image.slice(3).trim() === "") {
        return new FitsHeader(file, label, cards, offset, pos - offset);
      }
      try {
        cards.push(parseCard(image));
      } catch (err) {
        if (err instanceof CardSyntaxError) {
          const cardNo = cards.length + 1;
          // Binary bytes where the first card should be: this is not a FITS file.
          const problem = offset === 0 && cardNo === 1 ? "not-fits" : "bad-header";
          throw new PsrfitsError(file, problem, `the ${label} header's card ${cardNo}: ${err.message}`);
        }
        throw err;
      }
    }
  }
}

/** The primary header; "not-fits" unless the file starts with SIMPLE = T. */
export function readPrimaryHeader(fd: number, file: string, fileSize: number): FitsHeader {
  if (fileSize < BLOCK_LENGTH) {
    throw new PsrfitsError(file, "not-fits", `${fileSize} bytes is shorter than one 2880-byte FITS block`);
  }
  const first = readBlock(fd, file, 0).toString("latin1", 0, CARD_LENGTH);
  if (!/^SIMPLE  = +T\b/.test(first)) {
    throw new PsrfitsError(file, "not-fits", `it does not start with a FITS primary header (SIMPLE = T)`);
  }
  return readHeaderAt(fd, file, 0, fileSize, "primary");
}

export interface FoundExtension {
  header: FitsHeader;
  /** HDU number, 0 being the primary. */
  index: number;
}

/**
 * Find the first extension whose EXTNAME is `extname` (and XTENSION `xtension`),
 * skipping every earlier HDU by the size its header declares. Throws "no-subint"-
 * style errors listing what was seen, so "only a primary HDU" is distinguishable
 * from "the SUBINT table is called something else".
 */
export function findExtension(fd: number, file: string, fileSize: number, primary: FitsHeader, extname: string, xtension: string): FoundExtension {
  const seen: string[] = ["primary"];
  let offset = primary.dataOffset + paddedLength(primary.dataBytes());
  let index = 1;
  while (offset + BLOCK_LENGTH <= fileSize) {
    const header = readHeaderAt(fd, file, offset, fileSize, `HDU ${index}`);
    const kind = header.optString("XTENSION");
    if (kind === undefined) {
      // Special records after the last HDU are allowed by the standard; stop there.
      break;
    }
    const name = header.optString("EXTNAME") ?? "";
    seen.push(name === "" ? `${kind} HDU ${index}` : `${kind} ${name}`);
    if (name.trim().toUpperCase() === extname && kind.trim().toUpperCase() === xtension) {
      return { header: new FitsHeader(file, extname, header.cards, header.offset, header.byteLength), index };
    }
    offset = header.dataOffset + paddedLength(header.dataBytes());
    index++;
  }
  const past = offset > fileSize ? ` (the last HDU's data run past the end of the file)` : "";
  throw new PsrfitsError(file, "no-subint", `no ${xtension} HDU with EXTNAME = '${extname}'; found ${seen.join(", ")}${past}`);
}
