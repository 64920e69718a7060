/**
 * The sifting diagnostics PALFA uploaded next to <base>.accelcands (palfa-reference.md
 * §4 and §5.3 step 8): a text summary, a report of every candidate, and two plots.
 *
 * Public API:
 *   writeSiftingProducts(dir, base, result): { summary, report, summaryPng, rejectsPng }
 *   formatSiftSummary(result): string        <base>.accelcands.summary
 *   formatSiftReport(result): string         <base>.accelcands.report (written gzipped)
 *   summaryFigure(base, result): Figure      <base>.accelcands.summary.png ("Periodicty summary plot")
 *   rejectsFigure(base, result): Figure      <base>.accelcands.rejects.png ("Rejected cands plot")
 *   sigmaToRadius(sigma): number             marker radius (px) from sifting.py's sigma_to_size()
 *
 * What PRESTO's sifting.py (which PALFA's mysifting.py forked) wrote, and what we add:
 *   - summary: Candlist.print_cand_summary's lines verbatim (good count, then the
 *     count of each bad list), followed by the per-stage counts of each search
 *     group that sifting.py only printed to stdout ("(N cands)", "Found N
 *     candidates.", "Removed N candidates with DM problems.", harmonics removed).
 *   - report: write_cand_report lists only the bad candidates ("%s (%d)" and
 *     "    Note: ..."), in bad-list order, and leaves out duplicates. Ours starts
 *     with the sifted candidates and their DM hits (as in .accelcands), then the
 *     rejected ones in sifting.py's form, grouped by reason in sifting.py's order,
 *     with the duplicates last; "#" lines head each section. Nothing parses this
 *     file: it is a gzipped blob for people to read.
 *   - summary plot: sifting.py plots all candidates' frequency against DM; PALFA's
 *     diagnostic is about what will be folded, so ours shows the sifted candidates,
 *     period (log) against DM, marker area growing with sigma as in sifting.py's
 *     sigma_to_size(), colour by harmonics summed, with histograms of their sigma
 *     and DM below.
 *   - rejects plot: as plot_rejects, every rejected candidate by reason (legend with
 *     counts), duplicates as small grey dots and the sifted candidates as rings.
 * An empty result still gives all four files (empty plots), as the uploader expects
 * each of them to exist.
 */

import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { Figure, type RGB, histogram } from "./plots";
import { type RejectionReason, type SiftCandidate, type SiftResult, formatCandlist, toAccelcandsEntries } from "./sifting";
import { formatAccelcands } from "../../shared/presto/accelcands";

export interface SiftingProductPaths {
  summary: string;
  /** The gzipped report (<base>.accelcands.report.gz). */
  report: string;
  summaryPng: string;
  rejectsPng: string;
}

export function writeSiftingProducts(dir: string, base: string, result: SiftResult): SiftingProductPaths {
  const stem = path.join(dir, `${base}.accelcands`);
  const paths: SiftingProductPaths = {
    summary: `${stem}.summary`,
    report: `${stem}.report.gz`,
    summaryPng: `${stem}.summary.png`,
    rejectsPng: `${stem}.rejects.png`,
  };
  fs.writeFileSync(paths.summary, formatSiftSummary(result));
  // PALFA ran "gzip --best" on the plain report; compressing in memory at level 9 is
  // the same, and a plain .report left by an earlier attempt must not be uploaded.
  fs.writeFileSync(paths.report, zlib.gzipSync(formatSiftReport(result), { level: 9 }));
  fs.rmSync(`${stem}.report`, { force: true });
  fs.writeFileSync(paths.summaryPng, summaryFigure(base, result).toPng());
  fs.writeFileSync(paths.rejectsPng, rejectsFigure(base, result).toPng());
  return paths;
}

/** sifting.py's bad lists in the order get_all_badcands() and plot_rejects() use. */
const BAD_LISTS: readonly RejectionReason[] = [
  "knownbirds",
  "longperiod",
  "shortperiod",
  "threshold",
  "harmpowcutoff",
  "rogueharmpow",
  "harmonic",
  "dmproblem",
];

/** print_cand_summary's wording and order. */
const SUMMARY_LINES: ReadonlyArray<readonly [RejectionReason, string]> = [
  ["knownbirds", "Known RFI rejects:"],
  ["shortperiod", "Short period rejects:"],
  ["longperiod", "Long period rejects:"],
  ["threshold", "Missed threshold:"],
  ["harmpowcutoff", "No good harmonics:"],
  ["rogueharmpow", "One bad harmonic:"],
  ["duplicate", "Duplicate candidates:"],
  ["harmonic", "Harmonic candidates:"],
  ["dmproblem", "Candidates with DM problems:"],
];

/** Legend labels (plot_rejects's, with "birdies" spelt right) and colours (distinct on white). */
const REJECT_STYLE: Readonly<Record<RejectionReason, { label: string; color: RGB }>> = {
  knownbirds: { label: "Known birdies", color: [214, 39, 40] },
  longperiod: { label: "Long period", color: [140, 86, 75] },
  shortperiod: { label: "Short period", color: [227, 119, 194] },
  threshold: { label: "Threshold", color: [31, 119, 180] },
  harmpowcutoff: { label: "Harm power cutoff", color: [23, 190, 207] },
  rogueharmpow: { label: "Rogue harm power", color: [188, 189, 34] },
  harmonic: { label: "Harmonic cand", color: [255, 127, 14] },
  dmproblem: { label: "DM problem", color: [148, 103, 189] },
  duplicate: { label: "Duplicates (hits)", color: [160, 160, 160] },
};

const SUMMARY_LABEL = Object.fromEntries(SUMMARY_LINES) as Record<RejectionReason, string>;

export function formatSiftSummary(result: SiftResult): string {
  const { report } = result;
  const row = (label: string, n: number, indent = 6) => `${" ".repeat(indent)}${label.padEnd(37 - indent)}${n}\n`;
  // print_cand_summary, byte for byte: "      # <label padded to 29>%d".
  let out = `   Candlist contains ${report.good} 'good' candidates\n`;
  for (const [reason, label] of SUMMARY_LINES) out += `      # ${label.padEnd(29)}${report.counts[reason]}\n`;

  report.groups.forEach((g, i) => {
    out += `\n   Search group ${i + 1} of ${report.groups.length}:\n`;
    out += row("Files read:", g.files);
    out += row("Candidates read:", g.candidatesRead);
    out += row("After default rejection:", g.afterDefaultRejection);
    out += row("After removing duplicates:", g.afterDuplicates);
    out += row("Removed with DM problems:", g.dmProblems.removed);
    out += row("too few DM hits:", g.dmProblems.tooFewHits, 9);
    out += row("peak at low DM:", g.dmProblems.peakBelowCutoff, 9);
    out += row("gaps in DM hits:", g.dmProblems.gaps, 9);
    out += row("After DM problems:", g.afterDmProblems);
  });
  const read = report.groups.reduce((n, g) => n + g.candidatesRead, 0);
  out += `\n   All groups:\n`;
  out += row("Candidates read:", read);
  out += row("Candidates rejected:", report.rejected.length);
  out += row("Harmonics removed:", report.harmonicsRemoved);
  out += row("Final candidates:", report.good);
  return out;
}

export function formatSiftReport(result: SiftResult): string {
  const { candidates, report } = result;
  // formatCandlist gives the column header line, then the candidates with their hits.
  const candlist = formatCandlist(candidates);
  const header = formatAccelcands([]);
  let out = header;
  out += `# Sifted candidates: ${candidates.length}, highest sigma first, with their DM hits\n`;
  out += candlist.slice(header.length);
  out += `#\n# Rejected candidates: ${report.rejected.length}, by reason; each with sifting.py's note\n`;
  for (const reason of [...BAD_LISTS, "duplicate" as const]) {
    const list = report.rejected.filter((r) => r.reason === reason);
    out += `# ${SUMMARY_LABEL[reason]} ${list.length}\n`;
    for (const r of list) out += `${candidateLine(r.candidate)}\n    Note: ${r.note}\n\n`;
  }
  return out;
}

/** sifting.py's "%s (%d)" % (str(cand), len(cand.hits)): the .accelcands candidate line. */
function candidateLine(c: SiftCandidate): string {
  const text = formatAccelcands(toAccelcandsEntries([c]));
  return text.slice(text.indexOf("\n") + 1, text.indexOf("\n", text.indexOf("\n") + 1));
}

/**
 * Marker radius in pixels for a sigma: sifting.py's sigma_to_size(), clip(20**(sigma/6),
 * 5, 400), is a matplotlib marker area in points^2; at the 100 dpi it saved at, a
 * point is 100/72 pixels.
 */
export function sigmaToRadius(sigma: number): number {
  const area = Math.min(400, Math.max(5, 20 ** (sigma / 6)));
  return Math.sqrt(area / Math.PI) * (100 / 72);
}

const HARMONIC_COLORS: ReadonlyArray<readonly [number, RGB]> = [
  [1, [215, 48, 39]],
  [2, [244, 140, 40]],
  [4, [26, 152, 80]],
  [8, [49, 104, 189]],
  [16, [118, 42, 131]],
];
const OTHER_HARMONICS: RGB = [120, 120, 120];
const EDGE: RGB = [40, 40, 40];
const PERIOD_AXIS = { title: "Period (s)", log: true } as const;
const DM_AXIS = { title: "DM (pc cm^-3)" } as const;

export function summaryFigure(base: string, result: SiftResult): Figure {
  const n = result.candidates.length;
  const fig = new Figure(1000, 800, { title: `${base} Periodicity Summary: ${n} candidate${n === 1 ? "" : "s"}` });
  // Weakest first, so that strong candidates are drawn on top.
  const cands = [...result.candidates].sort((a, b) => a.sigma - b.sigma);
  const colorOf = (c: SiftCandidate) => HARMONIC_COLORS.find(([h]) => h === c.numharm)?.[1] ?? OTHER_HARMONICS;

  const main = fig.addPanel({ left: 90, top: 70, width: 670, height: 430 }, { x: PERIOD_AXIS, y: DM_AXIS, legend: "right" });
  main.scatter(
    cands.map((c) => c.p),
    cands.map((c) => c.dm),
    { color: cands.map(colorOf), radius: cands.map((c) => sigmaToRadius(c.sigma)), alpha: 0.75, edge: EDGE },
  );
  for (const [h, color] of HARMONIC_COLORS) {
    main.legendEntry({ label: `${h} harm${h === 1 ? "" : "s"}`, color, radius: 5, edge: EDGE });
  }
  if (cands.some((c) => !HARMONIC_COLORS.some(([h]) => h === c.numharm))) {
    main.legendEntry({ label: "other", color: OTHER_HARMONICS, radius: 5, edge: EDGE });
  }
  // A key to marker size.
  for (const s of [6, 9, 12]) main.legendEntry({ label: `sigma ${s}`, color: [255, 255, 255], radius: sigmaToRadius(s), edge: EDGE });

  const sigmaHist = histogram(
    cands.map((c) => c.sigma),
    20,
  );
  const dmHist = histogram(
    cands.map((c) => c.dm),
    20,
  );
  const bar: RGB = [70, 110, 170];
  const sig = fig.addPanel({ left: 90, top: 610, width: 380, height: 120 }, { x: { title: "Sigma" }, y: { title: "Cands" } });
  const dm = fig.addPanel({ left: 580, top: 610, width: 380, height: 120 }, { x: DM_AXIS, y: { title: "Cands" } });
  if (n > 0) {
    sig.bars(sigmaHist.edges, sigmaHist.counts, { color: bar });
    dm.bars(dmHist.edges, dmHist.counts, { color: bar });
  }
  return fig;
}

export function rejectsFigure(base: string, result: SiftResult): Figure {
  const { report, candidates } = result;
  const fig = new Figure(1000, 800, {
    title: `${base} Rejected Cands: ${report.rejected.length} rejected, ${candidates.length} kept`,
  });
  const main = fig.addPanel({ left: 90, top: 70, width: 870, height: 550 }, { x: PERIOD_AXIS, y: DM_AXIS, legend: "below", legendColumns: 3 });

  // Duplicates are hits of other candidates: small and grey, underneath everything.
  const dupes = report.rejected.filter((r) => r.reason === "duplicate").map((r) => r.candidate);
  main.scatter(
    dupes.map((c) => c.p),
    dupes.map((c) => c.dm),
    { color: REJECT_STYLE.duplicate.color, radius: 2, alpha: 0.6 },
  );
  // The largest groups first, so that the rare reasons are not buried under them.
  const groups = BAD_LISTS.map((reason) => ({
    reason,
    cands: report.rejected.filter((r) => r.reason === reason).map((r) => r.candidate),
  })).sort((a, b) => b.cands.length - a.cands.length);
  for (const { reason, cands } of groups) {
    main.scatter(
      cands.map((c) => c.p),
      cands.map((c) => c.dm),
      { color: REJECT_STYLE[reason].color, radius: cands.map((c) => sigmaToRadius(c.sigma)), alpha: 0.7 },
    );
  }
  main.scatter(
    candidates.map((c) => c.p),
    candidates.map((c) => c.dm),
    { color: [0, 0, 0], radius: 7, ring: 2 },
  );

  // Legend in sifting.py's order, with counts.
  for (const reason of BAD_LISTS) {
    const { label, color } = REJECT_STYLE[reason];
    main.legendEntry({ label: `${label} (${report.counts[reason]})`, color, radius: 5, alpha: 0.7 });
  }
  main.legendEntry({ label: `${REJECT_STYLE.duplicate.label} (${report.counts.duplicate})`, color: REJECT_STYLE.duplicate.color, radius: 2 });
  main.legendEntry({ label: `Sifted cands (${candidates.length})`, color: [0, 0, 0], radius: 5, ring: 2 });
  return fig;
}
