/**
 * FITS header cards: 80 ASCII characters, keyword in columns 1-8, "= " in 9-10,
 * then a value and an optional "/ comment" (FITS Standard 4.0, section 4).
 *
 * Public API:
 *   CARD_LENGTH, BLOCK_LENGTH                   80 and 2880
 *   type CardValue                              string | int | float | bool | complex | undefined
 *   interface FitsCard { keyword; value; comment; image }
 *   parseCard(image): FitsCard                  throws CardSyntaxError
 *   class CardSyntaxError                       (wrapped into PsrfitsError by the header reader)
 *   formatValueCard(keyword, value, comment?): string   an 80-character card image
 *
 * We read only what PSRFITS search-mode headers use. Long strings continued with
 * CONTINUE cards (the OGIP convention) are not joined: PSRFITS keywords are short,
 * so a CONTINUE card is kept as commentary and the string before it keeps its
 * trailing "&". Integers keep their text too, so a value beyond 2^53 is still
 * visible exactly (no PSRFITS geometry keyword gets near that).
 */

export const CARD_LENGTH = 80;
export const BLOCK_LENGTH = 2880;
export const CARDS_PER_BLOCK = BLOCK_LENGTH / CARD_LENGTH;

export type CardValue =
  | { kind: "string"; value: string }
  | { kind: "int"; value: number; text: string }
  | { kind: "float"; value: number; text: string }
  | { kind: "bool"; value: boolean }
  /** "(re, im)": kept as text, PSRFITS never uses it. */
  | { kind: "complex"; text: string }
  /** A keyword with "= " but an empty value field (FITS "undefined value"). */
  | { kind: "undefined" };

export interface FitsCard {
  /** Columns 1-8 with trailing blanks removed ("" for a blank card). */
  keyword: string;
  /** null for commentary cards (COMMENT, HISTORY, blank, CONTINUE, END, ...). */
  value: CardValue | null;
  /** Text after the "/" of a value card, or columns 9-80 of a commentary card. */
  comment: string;
  /** The 80-character card as found, so it can be written back unchanged. */
  image: string;
}

export class CardSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CardSyntaxError";
  }
}

const INT_RE = /^[+-]?\d+$/;
// FITS allows a D exponent (Fortran double) as well as E.
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][+-]?\d+)?$/;
const KEYWORD_RE = /^[A-Z0-9_-]*$/;

/** Parse one 80-character card image. */
export function parseCard(image: string): FitsCard {
  if (image.length !== CARD_LENGTH) {
    throw new CardSyntaxError(`card is ${image.length} characters long, not 80`);
  }
  for (let i = 0; i < CARD_LENGTH; i++) {
    const c = image.charCodeAt(i);
    // Only printable ASCII is allowed in a header; anything else means binary data.
    if (c < 0x20 || c > 0x7e) {
      throw new CardSyntaxError(`card ${JSON.stringify(image.slice(0, 8))} has a non-ASCII byte at column ${i + 1}`);
    }
  }
  const keyword = image.slice(0, 8).trimEnd();
  if (!KEYWORD_RE.test(keyword)) {
    throw new CardSyntaxError(`invalid keyword ${JSON.stringify(image.slice(0, 8))}`);
  }
  if (image.slice(8, 10) !== "= " || keyword === "" || keyword === "COMMENT" || keyword === "HISTORY") {
    return { keyword, value: null, comment: image.slice(8).trimEnd(), image };
  }
  const field = image.slice(10);
  const { value, rest } = parseValueField(keyword, field);
  const slash = rest.indexOf("/");
  if (slash < 0 && rest.trim() !== "") {
    throw new CardSyntaxError(`${keyword}: unexpected text after the value: ${JSON.stringify(rest.trim())}`);
  }
  const comment = slash < 0 ? "" : rest.slice(slash + 1).trim();
  return { keyword, value, comment, image };
}

function parseValueField(keyword: string, field: string): { value: CardValue; rest: string } {
  let i = 0;
  while (i < field.length && field[i] === " ") i++;
  if (field[i] === "'") {
    // A string: '' inside is a literal quote; trailing blanks are not significant,
    // leading ones are (FITS 4.2.1.1).
    let out = "";
    let j = i + 1;
    for (;;) {
      if (j >= field.length) throw new CardSyntaxError(`${keyword}: string value has no closing quote`);
      if (field[j] === "'") {
        if (field[j + 1] === "'") {
          out += "'";
          j += 2;
          continue;
        }
        break;
      }
      out += field[j];
      j++;
    }
    return { value: { kind: "string", value: out.trimEnd() }, rest: field.slice(j + 1) };
  }
  const slash = field.indexOf("/", i);
  const text = (slash < 0 ? field.slice(i) : field.slice(i, slash)).trim();
  const rest = slash < 0 ? "" : field.slice(slash);
  if (text === "") return { value: { kind: "undefined" }, rest };
  if (text === "T" || text === "F") return { value: { kind: "bool", value: text === "T" }, rest };
  if (INT_RE.test(text)) return { value: { kind: "int", value: Number(text), text }, rest };
  if (FLOAT_RE.test(text)) {
    return { value: { kind: "float", value: Number(text.replace(/[Dd]/, "E")), text }, rest };
  }
  if (text.startsWith("(") && text.endsWith(")")) return { value: { kind: "complex", text }, rest };
  throw new CardSyntaxError(`${keyword}: cannot read value ${JSON.stringify(text)}`);
}

/**
 * An 80-character value card in FITS fixed format: an integer or logical right-
 * justified to column 30, a string quoted from column 11 (padded to 8 characters
 * inside the quotes, as CFITSIO writes them).
 */
export function formatValueCard(keyword: string, value: string | number | boolean, comment = ""): string {
  if (keyword.length > 8 || !KEYWORD_RE.test(keyword)) throw new Error(`invalid FITS keyword ${keyword}`);
  let field: string;
  if (typeof value === "string") {
    field = `'${value.replace(/'/g, "''").padEnd(8)}'`.padEnd(20);
  } else if (typeof value === "boolean") {
    field = (value ? "T" : "F").padStart(20);
  } else {
    if (!Number.isInteger(value)) throw new Error(`formatValueCard writes integers only, got ${value}`);
    field = String(value).padStart(20);
  }
  let card = `${keyword.padEnd(8)}= ${field}`;
  if (comment !== "") card += ` / ${comment}`;
  if (card.length > CARD_LENGTH) card = card.slice(0, CARD_LENGTH);
  return card.padEnd(CARD_LENGTH);
}

/** A HISTORY card with `text` (cut to fit). */
export function formatHistoryCard(text: string): string {
  return `HISTORY ${text}`.slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

/** The END card. */
export const END_CARD = "END".padEnd(CARD_LENGTH);
