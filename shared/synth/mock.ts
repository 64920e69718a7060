/**
 * Arecibo's Mock spectrometers split a PALFA beam in two halves, written as two
 * files: s0 the upper part of the band, s1 the lower, overlapping by a few
 * channels; psrfits_utils' combine_mocks merges them. This module names the files
 * and picks each half's channels.
 *
 *   defaultOverlap(nchan)                       channels shared by the halves (66 of 512, as PALFA's)
 *   splitChannels(nchanPerHalf, overlap)        { total, s0: [first, count], s1: [first, count] }
 *   palfaName(kind, yyyymmdd, source, beam)     p2030.20261206.G045.10+00.20.C.b3s0g0.00000.fits,
 *                                               ...b3s1g0.00000.fits, or the merged ...b3g0_0001.fits
 *
 * Channel indices are file order (highest frequency first). combine_mocks needs
 * at least 4 shared channels (it averages DAT_OFFS/DAT_SCL over half of them on
 * each side) on the same frequency grid, and finds the halves by the first "s0"/"s1"
 * in the name, so the names are checked for a stray one.
 */

export function defaultOverlap(nchan: number): number {
  return Math.max(4, 2 * Math.round((nchan * 33) / 512));
}

export interface ChannelSplit {
  /** Distinct channels in the whole band. */
  total: number;
  s0: { first: number; count: number };
  s1: { first: number; count: number };
}

export function splitChannels(nchanPerHalf: number, overlap: number): ChannelSplit {
  if (!(Number.isInteger(overlap) && overlap >= 4)) throw new Error(`--overlap must be an integer of at least 4 (combine_mocks needs it), got ${overlap}`);
  if (overlap >= nchanPerHalf) throw new Error(`--overlap ${overlap} must be smaller than the channels per half (${nchanPerHalf})`);
  const total = 2 * nchanPerHalf - overlap;
  return { total, s0: { first: 0, count: nchanPerHalf }, s1: { first: nchanPerHalf - overlap, count: nchanPerHalf } };
}

export type PalfaFileKind = "s0" | "s1" | "merged";

export function palfaName(kind: PalfaFileKind, yyyymmdd: string, source: string, beam: number): string {
  const stem = `p2030.${yyyymmdd}.${source}.C.b${beam}`;
  const name = kind === "merged" ? `${stem}g0_0001.fits` : `${stem}${kind}g0.00000.fits`;
  if (kind !== "merged") {
    const at = name.indexOf(kind === "s0" ? "s1" : "s0");
    const own = name.indexOf(kind);
    if (at >= 0 || own !== stem.length) {
      throw new Error(
        `source name ${JSON.stringify(source)} puts an "s0" or "s1" in the file name before the half's own, which combine_mocks would take for it`,
      );
    }
  }
  return name;
}
