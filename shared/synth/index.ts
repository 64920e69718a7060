/**
 * Synthetic PSRFITS beams that real PRESTO and psrfits_utils read: for tests, for
 * canary runs of the search, and for sensitivity measurements by injection.
 *
 *   writeSynthBeam(options, out, { paramsJson? })   a seeded beam: one file or a Mock s0/s1 pair
 *   injectPulsar(input, output, options)            a copy of a real beam with a pulsar added
 *   planBeam(options), SYNTH_DEFAULTS               the options checked and resolved
 *   SNR_DEFINITION, snrPerUnitAmplitude             what --snr means (snr.ts)
 *
 * Modules, one job each: special (normal distribution), random (seeded streams),
 * sky (coordinates, dates, dispersion), fits-writer (cards, blocks, streaming),
 * psrfits-layout (Mock PSRFITS keys and columns), quantize (levels, packing),
 * pulsar (dispersed pulse train), rfi (bursts, narrow-band, birdie), snr, spec
 * (options -> plan), mock (halves and PALFA names), synth (the writer), inject.
 */

export { type SynthOptions, type SynthPulsarOptions, type BeamPlan, SYNTH_DEFAULTS, planBeam, mergedName } from "./spec";
export { type SynthFile, type SynthResult, type SynthTruth, writeSynthBeam } from "./synth";
export { type InjectOptions, type InjectResult, injectPulsar } from "./inject";
export { SNR_DEFINITION, type SnrChannel, snrPerUnitAmplitude } from "./snr";
export { type PulsarParams, PulsarModel } from "./pulsar";
export { type Bits, LEVELS, quantisationGain, unpackSamples } from "./quantize";
export { defaultOverlap, palfaName } from "./mock";
export { Rng } from "./random";
