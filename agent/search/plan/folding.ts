/**
 * prepfold's options for each candidate chosen to be folded. Which candidates are
 * folded is the fold-selection rule in shared/search/fold-selection.ts, which the
 * uploader applies too.
 *
 * Public API:
 *   foldOptionsForPeriod(periodS): FoldOptions
 *   foldNsub(backend, nchan): number
 *   prepfoldArgs(request): PrepfoldCommand          argv for prepfold (without "prepfold")
 *
 * Options (get_folding_command): 24-200 profile bins, a p/pdot/DM search cube of
 * about 101 points a side (2*M*N+1), fewer sub-integrations for slow pulsars, and
 * no pdot (and no DM) search for the slowest, where RFI would otherwise win.
 *
 *   period     -n  -npfact -ndmfact -npart  other options
 *   < 2 ms     24     2       2       50    -ndmfact 3
 *   < 50 ms    50     2       1       40    -pstep 1 -pdstep 2 -dmstep 3
 *   < 0.5 s   100     1       1       30    -pstep 1 -pdstep 2 -dmstep 1 -nodmsearch
 *   >= 0.5 s  200     1       1       30    -nopdsearch -pstep 1 -pdstep 2 -dmstep 1 -nodmsearch
 *
 * The argument order is PALFA's, including the MSP row's "-ndmfact 3" before the
 * later "-ndmfact 2": prepfold's parser keeps the last, so MSPs get 2 (kept as
 * PALFA ran it). -npart is capped at the file's rows: PRESTO never splits a
 * PSRFITS row, so more parts than rows would leave parts empty and fold nothing.
 */

import { subbandsFor } from "./ddplans";
import { formatDm } from "./passes";

export interface FoldOptions {
  /** -n: profile bins. */
  nbins: number;
  /** -npfact / -ndmfact. */
  npfact: number;
  ndmfact: number;
  /** -npart before the row cap. */
  npart: number;
  /** The period-dependent extra options. */
  other: string[];
}

export function foldOptionsForPeriod(periodS: number): FoldOptions {
  if (!(periodS > 0)) throw new Error(`foldOptionsForPeriod: period must be positive, got ${periodS}`);
  if (periodS < 0.002) return { nbins: 24, npfact: 2, ndmfact: 2, npart: 50, other: ["-ndmfact", "3"] };
  if (periodS < 0.05) {
    return { nbins: 50, npfact: 2, ndmfact: 1, npart: 40, other: ["-pstep", "1", "-pdstep", "2", "-dmstep", "3"] };
  }
  if (periodS < 0.5) {
    return {
      nbins: 100,
      npfact: 1,
      ndmfact: 1,
      npart: 30,
      other: ["-pstep", "1", "-pdstep", "2", "-dmstep", "1", "-nodmsearch"],
    };
  }
  return {
    nbins: 200,
    npfact: 1,
    ndmfact: 1,
    npart: 30,
    other: ["-nopdsearch", "-pstep", "1", "-pdstep", "2", "-dmstep", "1", "-nodmsearch"],
  };
}

/**
 * -nsub: 96 for the Mock ('pdev') and 64 for the WAPP, as PALFA; for other
 * backends (PALFA had none) the channel count, capped at 96.
 */
export function foldNsub(backend: string, nchan: number): number {
  const b = backend.trim().toLowerCase();
  const wanted = b === "pdev" ? 96 : b === "wapp" ? 64 : 96;
  // prepfold needs the subbands to divide the channels evenly: PALFA's 96 suits
  // Mock's 960 channels; other data gets the largest divisor not above it.
  return subbandsFor(nchan, wanted);
}

export interface PrepfoldRequest {
  /** 1-based candidate number within the accel file (-accelcand). */
  candnum: number;
  /** The _ACCEL_<zmax> file the candidate came from, without ".cand" (e.g. "beam_DM57.00_ACCEL_0"). */
  accelFile: string;
  /** DM as a number (-dm "%.2f"). */
  dm: number;
  /**
   * The DM as the trial's file names spell it (PALFA's cand.DMstr), for -o. Default:
   * the "_DM<dm>_" part of accelFile, else "%.2f" of dm.
   */
  dmStr?: string;
  /** zmax of the search that found it; when omitted, taken from accelFile's "_<zmax>" suffix. */
  zmax?: number | string;
  periodS: number;
  /** Basename of the beam's products, e.g. "p2030.20230225.G037.00-00.10.b0.00000". */
  basename: string;
  backend: string;
  nchan: number;
  /** PSRFITS rows of the data being folded (caps -npart). */
  rows: number;
  /** rfifind mask; PALFA always passed one when folding raw data. */
  mask: string | null;
  /** The raw PSRFITS files. */
  rawFiles: string[];
}

export interface PrepfoldCommand {
  args: string[];
  /** -o: prepfold writes <outBase>_ACCEL_Cand_<candnum>.pfd (and .bestprof, .ps). */
  outBase: string;
  options: FoldOptions;
  npart: number;
  nsub: number;
}

export function prepfoldArgs(r: PrepfoldRequest): PrepfoldCommand {
  const zmax = r.zmax ?? zmaxFromAccelFile(r.accelFile);
  const options = foldOptionsForPeriod(r.periodS);
  const npart = Math.min(options.npart, r.rows);
  if (npart < 1) throw new Error(`prepfoldArgs: the data have ${r.rows} rows; nothing to fold`);
  const nsub = foldNsub(r.backend, r.nchan);
  const dmStr = r.dmStr ?? dmStrFromAccelFile(r.accelFile) ?? formatDm(r.dm);
  const outBase = `${r.basename}_DM${dmStr}_Z${zmax}`;
  const args = [
    "-noxwin",
    "-accelcand",
    String(r.candnum),
    "-accelfile",
    `${r.accelFile}.cand`,
    "-dm",
    formatDm(r.dm),
    "-o",
    outBase,
    "-nsub",
    String(nsub),
    "-npart",
    String(npart),
    ...options.other,
    "-n",
    String(options.nbins),
    "-npfact",
    String(options.npfact),
    "-ndmfact",
    String(options.ndmfact),
    ...(r.mask === null ? [] : ["-mask", r.mask]),
    ...r.rawFiles,
  ];
  return { args, outBase, options, npart, nsub };
}

/** PALFA: zmax = cand.filename.split("_")[-1], i.e. "0" from "..._ACCEL_0". */
function zmaxFromAccelFile(accelFile: string): string {
  const base = accelFile.split("/").pop() ?? accelFile;
  const parts = base.split("_");
  const last = parts[parts.length - 1];
  if (parts.length < 2 || !/^\d+$/.test(last)) {
    throw new Error(`prepfoldArgs: cannot take zmax from ${JSON.stringify(accelFile)}; pass zmax`);
  }
  return last;
}

/** "57.00" from ".../beam_DM57.00_ACCEL_0" (sifting's Candidate.DMstr), or null. */
function dmStrFromAccelFile(accelFile: string): string | null {
  const base = accelFile.split("/").pop() ?? accelFile;
  const m = /_DM([0-9.]+)_ACCEL_\d+$/.exec(base);
  return m === null ? null : m[1];
}
