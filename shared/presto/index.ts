/**
 * Typed parsers for the PRESTO text products of a beam search.
 *
 * Every parser takes the text and a file label (or a path, for the read* helpers)
 * and returns a typed object, or throws ParseError (file, 1-based line, what was
 * expected) on truncated or malformed input.
 *
 *   inf          parseInf / readInfFile / parseInfLines / observationLength
 *   accel        parseAccel / readAccelFile             (_ACCEL_<z> candidate files)
 *   singlepulse  parseSinglePulse / readSinglePulseFile (.singlepulse)
 *   bestprof     parseBestprof / readBestprofFile       (.pfd.bestprof)
 *   rfifind      parseRfifindOutput / readRfifindOutput (rfifind stdout, masked %)
 *   zaplist      parseZaplist / readZaplist / percentZapped
 *   accelcands   parseAccelcands / readAccelcandsFile / formatAccelcands
 *   values       parseNumber / parseMeasurement         (PRESTO's "v(err)" notation)
 *   pycompat     formatFixed / formatG / pyCenter / numpySum (Python-identical output)
 */

export { ParseError } from "./errors";
export { type Measurement, parseMeasurement, parseNumber } from "./values";
export {
  type InfFile,
  type InfHighEnergy,
  type InfMjd,
  type InfOptical,
  type InfRadio,
  observationLength,
  parseInf,
  parseInfLines,
  readInfFile,
} from "./inf";
export { type AccelCandidate, type AccelFile, type AccelHarmonic, parseAccel, readAccelFile } from "./accel";
export { type SinglePulseEvent, type SinglePulseFile, parseSinglePulse, readSinglePulseFile } from "./singlepulse";
export {
  type BestprofEpoch,
  type BestprofFile,
  type BestprofOrbit,
  type BestprofProbNoise,
  parseBestprof,
  readBestprofFile,
} from "./bestprof";
export {
  type RfifindBirdie,
  type RfifindIntervals,
  type RfifindSummary,
  parseRfifindOutput,
  readRfifindOutput,
} from "./rfifind";
export {
  type PercentZapped,
  type PercentZappedOptions,
  type ZapEntry,
  parseZaplist,
  percentZapped,
  readZaplist,
} from "./zaplist";
export {
  type AccelcandsEntry,
  type AccelcandsHit,
  formatAccelcands,
  parseAccelcands,
  readAccelcandsFile,
} from "./accelcands";
export { formatFixed, formatG, numpySum, pyCenter } from "./pycompat";
