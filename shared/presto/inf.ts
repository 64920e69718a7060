/**
 * PRESTO ".inf" files (the metadata written next to every .dat/.fft and appended
 * to every _ACCEL_<z> file).
 *
 * Public API:
 *   interface InfFile, InfMjd, InfRadio, InfHighEnergy, InfOptical
 *   parseInf(text, file): InfFile
 *   parseInfLines(lines, file, firstLineNumber): InfFile   (for .inf blocks inside other files)
 *   readInfFile(path): InfFile
 *   observationLength(inf): number        T = N * dt, exactly as sifting.py computes it
 *
 * The format is positional, and we read it the way PRESTO's readinf() (src/ioinf.c)
 * does: line by line, taking the value after the "=" in column 41 (or, failing that,
 * after the last "="), never by looking for labels. Which lines exist depends on the
 * data: artificial data ("None (Artificial Data Set)" telescope) has no observation
 * block; "Any breaks" = 1 is followed by On/Off pairs until one ends at N-1; the EM
 * band decides which 3-6 lines follow ("Radio" has beam, DM, frequencies, channels;
 * "X-ray"/"Gamma" have field of view and energies; anything else has filter, field of
 * view and wavelengths). The notes block runs to the end of the file.
 */

import fs from "node:fs";
import { ParseError } from "./errors";
import { splitLines } from "./text";
import { parseNumber } from "./values";

/** PRESTO's name for makedata's fake observations; such files skip the observation lines. */
const ARTIFICIAL_TELESCOPE = "None (Artificial Data Set)";

export interface InfMjd {
  /** As printed, e.g. "60000.247380353663175" (more digits than a double holds). */
  text: string;
  /** Integer day, as PRESTO's mjd_i. */
  int: number;
  /** Fraction of day parsed on its own, as PRESTO's mjd_f, so no digits are lost to the day. */
  frac: number;
  /** The whole MJD as one double (about 1e-11 d resolution). */
  value: number;
}

export interface InfRadio {
  beamDiameterArcsec: number;
  dm: number;
  /** "Central freq of low channel (MHz)": the centre of the lowest channel, not of the band. */
  lowChannelFreqMHz: number;
  totalBandwidthMHz: number;
  numChannels: number;
  channelWidthMHz: number;
}

export interface InfHighEnergy {
  fovArcsec: number;
  centralEnergyKeV: number;
  energyBandKeV: number;
}

export interface InfOptical {
  filter: string;
  fovArcsec: number;
  centralWavelengthNm: number;
  bandpassNm: number;
}

export interface InfFile {
  /** "Data file name without suffix". */
  basename: string;
  telescope: string;
  /** The following observation fields are null only for artificial (makedata) data. */
  instrument: string | null;
  object: string | null;
  /** "hh:mm:ss.ssss" exactly as written. */
  raString: string | null;
  /** "dd:mm:ss.ssss" exactly as written. */
  decString: string | null;
  observer: string | null;
  mjd: InfMjd | null;
  barycentred: boolean | null;
  /** Number of bins in the time series (PRESTO keeps it as a double). */
  numSamples: number;
  /** Width of each bin, seconds. */
  sampleTime: number;
  /** "Any breaks in the data?" */
  breaks: boolean;
  /**
   * On/off bin pairs, as readinf() derives them: the listed pairs when there are
   * breaks, otherwise the single pair [0, N-1].
   */
  onOff: Array<[number, number]>;
  /** "Radio", "X-ray", "Gamma", "IR", "Optical", "UV", ...; null for artificial data. */
  emBand: string | null;
  radio: InfRadio | null;
  highEnergy: InfHighEnergy | null;
  optical: InfOptical | null;
  analyst: string;
  /** The notes block, one string, lines joined with "\n", trailing blank lines dropped. */
  notes: string;
  /** Number of lines the .inf block occupied (the notes run to the end of the input). */
  lineCount: number;
}

export function readInfFile(path: string): InfFile {
  return parseInf(fs.readFileSync(path, "utf8"), path);
}

export function parseInf(text: string, file: string): InfFile {
  return parseInfLines(splitLines(text, file, true), file, 1);
}

/** T = N * dt, computed as sifting.py does (int N times float dt). */
export function observationLength(inf: InfFile): number {
  return inf.numSamples * inf.sampleTime;
}

/**
 * Parse an .inf block given as lines; `firstLineNumber` is the 1-based line number of
 * lines[0] in the original file, so errors point at the right place inside an ACCEL file.
 */
export function parseInfLines(lines: readonly string[], file: string, firstLineNumber: number): InfFile {
  const r = new LineReader(lines, file, firstLineNumber);

  const basename = r.value("data file name");
  const telescope = r.value("telescope");
  const real = telescope !== ARTIFICIAL_TELESCOPE;

  let instrument: string | null = null;
  let object: string | null = null;
  let raString: string | null = null;
  let decString: string | null = null;
  let observer: string | null = null;
  let mjd: InfMjd | null = null;
  let barycentred: boolean | null = null;
  if (real) {
    instrument = r.value("instrument");
    object = r.value("object");
    raString = r.value("J2000 right ascension");
    decString = r.value("J2000 declination");
    observer = r.value("observer");
    mjd = r.mjd("epoch of observation (MJD)");
    barycentred = r.flag("barycentred flag (0 or 1)");
  }
  const numSamples = r.number("number of bins in the time series");
  const sampleTime = r.number("width of each time series bin");
  const breaks = r.flag("breaks flag (0 or 1)");

  const onOff: Array<[number, number]> = [];
  if (breaks) {
    // readinf() reads pairs until one ends at the last bin; a file that has fewer
    // pairs runs into the next line, which is then not a pair: report it as such.
    do {
      onOff.push(r.pair(`on/off bin pair #${onOff.length + 1}`));
    } while (onOff[onOff.length - 1]![1] < numSamples - 1);
  } else {
    onOff.push([0, numSamples - 1]);
  }

  let emBand: string | null = null;
  let radio: InfRadio | null = null;
  let highEnergy: InfHighEnergy | null = null;
  let optical: InfOptical | null = null;
  if (real) {
    emBand = r.value("type of observation (EM band)");
    if (emBand === "Radio") {
      radio = {
        beamDiameterArcsec: r.number("beam diameter"),
        dm: r.number("dispersion measure"),
        lowChannelFreqMHz: r.number("central freq of low channel"),
        totalBandwidthMHz: r.number("total bandwidth"),
        numChannels: r.integer("number of channels"),
        channelWidthMHz: r.number("channel bandwidth"),
      };
    } else if (emBand === "X-ray" || emBand === "Gamma") {
      highEnergy = {
        fovArcsec: r.number("field-of-view diameter"),
        centralEnergyKeV: r.number("central energy"),
        energyBandKeV: r.number("energy bandpass"),
      };
    } else {
      optical = {
        filter: r.value("photometric filter"),
        fovArcsec: r.number("field-of-view diameter"),
        centralWavelengthNm: r.number("central wavelength"),
        bandpassNm: r.number("bandpass"),
      };
    }
  }
  const analyst = r.value("data analyzed by");
  r.notesHeader();
  const notes = r.rest();

  return {
    basename,
    telescope,
    instrument,
    object,
    raString,
    decString,
    observer,
    mjd,
    barycentred,
    numSamples,
    sampleTime,
    breaks,
    onOff,
    emBand,
    radio,
    highEnergy,
    optical,
    analyst,
    notes,
    lineCount: lines.length,
  };
}

/** Sequential reader over the block; every getter consumes exactly one line. */
class LineReader {
  private index = 0;

  constructor(
    private readonly lines: readonly string[],
    private readonly file: string,
    private readonly firstLineNumber: number,
  ) {}

  private lineNumber(): number {
    return this.firstLineNumber + this.index;
  }

  private fail(expected: string, found?: string): never {
    throw new ParseError(this.file, this.lineNumber(), expected, found);
  }

  /** The value text of the next "label = value" line, as readinf's read_inf_line_valstr. */
  value(what: string): string {
    const line = this.lines[this.index];
    if (line === undefined) this.fail(`the "${what}" line`);
    if (line.trim().length === 0) this.fail(`the "${what}" line`, line);
    let eq: number;
    if (line.length >= 41 && line[40] === "=") {
      eq = 40;
    } else {
      eq = line.lastIndexOf("=");
      if (eq < 0) this.fail(`the "${what}" line ("label = value")`, line);
    }
    this.index++;
    const value = line.slice(eq + 1).trim();
    // PRESTO reads an empty value as "Unknown" (and writes "Unknown" for empty fields).
    return value.length > 0 ? value : "Unknown";
  }

  number(what: string): number {
    const text = this.value(what);
    const n = parseNumber(text);
    if (n === null) this.back(`a number for "${what}"`);
    return n;
  }

  integer(what: string): number {
    const n = this.number(what);
    if (!Number.isInteger(n)) this.back(`an integer for "${what}"`);
    return n;
  }

  flag(what: string): boolean {
    const text = this.value(what);
    if (text !== "0" && text !== "1") this.back(`${what}`);
    return text === "1";
  }

  mjd(what: string): InfMjd {
    const text = this.value(what);
    const m = /^(\d+)\.(\d+)$/.exec(text);
    if (!m) this.back(`an MJD "ddddd.ffff" for "${what}"`);
    return { text, int: Number(m[1]), frac: Number(`0.${m[2]}`), value: Number(text) };
  }

  pair(what: string): [number, number] {
    const text = this.value(what);
    // readinf: sscanf("%lf %*[ ,] %lf")
    const m = /^(\S+?)\s*[ ,]+\s*(\S+)$/.exec(text);
    const on = m ? parseNumber(m[1]!) : null;
    const off = m ? parseNumber(m[2]!) : null;
    if (on === null || off === null) this.back(`two bin numbers "on , off" for "${what}"`);
    return [on, off];
  }

  notesHeader(): void {
    const line = this.lines[this.index];
    if (line === undefined || !/^\s*Any additional notes/.test(line)) {
      this.fail('the "Any additional notes:" line', line);
    }
    this.index++;
  }

  rest(): string {
    const notes = this.lines.slice(this.index).map((l) => l.trim());
    this.index = this.lines.length;
    while (notes.length > 0 && notes[notes.length - 1] === "") notes.pop();
    return notes.join("\n");
  }

  /** Report a bad value on the line just consumed. */
  private back(expected: string): never {
    this.index--;
    this.fail(expected, this.lines[this.index]);
  }
}
