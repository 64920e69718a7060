/**
 * PSRFITS search-mode headers, read in TypeScript (no CFITSIO, no Python).
 *
 *   readPsrfitsHeader(path): PsrfitsHeader     primary + SUBINT header, geometry, derived values
 *   writeHeaderOnlyCopy(src, dest)             PALFA's fitsdelcol'd header-only file, as valid FITS
 *   PsrfitsError                               not-fits / no-end / no-subint / truncated / bad-header / io
 *   parseCard / formatValueCard / FitsHeader   the FITS card layer, for other FITS readers
 */

export { type PsrfitsProblem, PsrfitsError } from "./errors";
export {
  BLOCK_LENGTH,
  CARD_LENGTH,
  type CardValue,
  type FitsCard,
  CardSyntaxError,
  formatValueCard,
  parseCard,
} from "./cards";
export { FitsHeader } from "./fits-header";
export { type TableColumn, parseTdim, parseTform, tableColumns } from "./columns";
export { startMjdNumber, startMjdString } from "./mjd";
export {
  ORIGINAL_ROWS_KEY,
  type PsrfitsColumn,
  type PsrfitsHeader,
  type PsrfitsSubint,
  readPsrfitsHeader,
} from "./psrfits-header";
export { writeHeaderOnlyCopy } from "./header-only";
