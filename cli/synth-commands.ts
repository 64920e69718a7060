// `beamflow synth` and `beamflow inject`: synthetic PSRFITS beams that real PRESTO
// reads (tests, canary runs) and pulsars injected into real beams (sensitivity).
// Neither needs a config or the coordinator. The work is in shared/synth/.
import path from "node:path";
import type { Command } from "commander";
import { injectPulsar, planBeam, SYNTH_DEFAULTS, writeSynthBeam, type SynthOptions } from "../shared/synth";
import { usageError } from "./args";
import { printJson } from "./format";
import { run } from "./run";

/** A flag that does not parse or describes nothing is a usage error (exit 64), said before any file is written. */
function flagsChecked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw usageError((err as Error).message);
  }
}

function num(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v)) throw new Error(`${flag}: not a number: ${JSON.stringify(text)}`);
  return v;
}

function int(flag: string, text: string | undefined): number | undefined {
  const v = num(flag, text);
  if (v !== undefined && !Number.isInteger(v)) throw new Error(`${flag}: not an integer: ${JSON.stringify(text)}`);
  return v;
}

function intList(flag: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  return text.split(",").map((s) => int(flag, s.trim()) as number);
}

const mb = (bytes: number) => (bytes >= 100_000 ? `${(bytes / 1e6).toFixed(1)} MB` : `${bytes} bytes`);

interface SynthFlags {
  out: string;
  mock?: boolean;
  overlap?: string;
  seed?: string;
  bits?: string;
  nchan?: string;
  fctr?: string;
  bw?: string;
  tsamp?: string;
  nsblk?: string;
  length?: string;
  mjd?: string;
  beam?: string;
  source?: string;
  ra?: string;
  dec?: string;
  period?: string;
  dm?: string;
  duty?: string;
  phase?: string;
  amp?: string;
  snr?: string;
  rfiBursts?: string;
  rfiBurstAmp?: string;
  rfiBurstWidth?: string;
  rfiChan?: string;
  rfiAmp?: string;
  rfiTone?: string;
  birdie?: string;
  birdieAmp?: string;
  paramsJson?: string;
  json?: boolean;
}

export function synthOptionsFromFlags(f: SynthFlags): SynthOptions {
  const pulsarFlags = ["dm", "duty", "phase", "amp", "snr"] as const;
  if (f.period === undefined) {
    const stray = pulsarFlags.filter((k) => f[k] !== undefined);
    if (stray.length) throw new Error(`--${stray[0]} describes a pulsar: give its --period too`);
  }
  const bits = int("--bits", f.bits);
  const tsampUs = num("--tsamp", f.tsamp);
  const o: SynthOptions = {
    seed: int("--seed", f.seed),
    bits: bits as SynthOptions["bits"],
    nchan: int("--nchan", f.nchan),
    fctrMhz: num("--fctr", f.fctr),
    bwMhz: num("--bw", f.bw),
    tsampS: tsampUs === undefined ? undefined : tsampUs * 1e-6,
    nsblk: int("--nsblk", f.nsblk),
    lengthS: num("--length", f.length),
    mock: !!f.mock,
    overlap: int("--overlap", f.overlap),
    beam: int("--beam", f.beam),
    source: f.source,
    ra: f.ra,
    dec: f.dec,
    startMjd: num("--mjd", f.mjd),
  };
  if (f.period !== undefined) {
    o.pulsar = {
      periodS: num("--period", f.period)!,
      dm: num("--dm", f.dm),
      duty: num("--duty", f.duty),
      phase: num("--phase", f.phase),
      ampSigma: num("--amp", f.amp),
      snr: num("--snr", f.snr),
    };
  }
  if (f.rfiBursts !== undefined) {
    o.bursts = {
      count: int("--rfi-bursts", f.rfiBursts)!,
      ampSigma: num("--rfi-burst-amp", f.rfiBurstAmp) ?? 3,
      widthS: num("--rfi-burst-width", f.rfiBurstWidth) ?? 0.02,
    };
  } else if (f.rfiBurstAmp !== undefined || f.rfiBurstWidth !== undefined) {
    throw new Error("--rfi-burst-amp and --rfi-burst-width need --rfi-bursts N");
  }
  if (f.rfiChan !== undefined) {
    o.narrowband = { channels: intList("--rfi-chan", f.rfiChan)!, ampSigma: num("--rfi-amp", f.rfiAmp) ?? 3, toneHz: num("--rfi-tone", f.rfiTone) ?? 17.3 };
  } else if (f.rfiAmp !== undefined || f.rfiTone !== undefined) {
    throw new Error("--rfi-amp and --rfi-tone need --rfi-chan LIST");
  }
  if (f.birdie !== undefined) {
    o.birdie = { freqHz: num("--birdie", f.birdie)!, ampSigma: num("--birdie-amp", f.birdieAmp) ?? 0.02 };
  } else if (f.birdieAmp !== undefined) {
    throw new Error("--birdie-amp needs --birdie HZ");
  }
  return o;
}

interface InjectFlags {
  out: string;
  period: string;
  dm: string;
  snr?: string;
  amp?: string;
  duty?: string;
  phase?: string;
  seed?: string;
  statsRows?: string;
  paramsJson?: string;
  json?: boolean;
}

export function registerSynthCommands(program: Command): void {
  const d = SYNTH_DEFAULTS;
  program
    .command("synth")
    .description("write a synthetic PSRFITS beam (seeded): one file, or a Mock s0/s1 pair with --mock")
    .requiredOption("-o, --out <path>", "the file to write; a directory for --mock (or for one file named like a merged Mock beam)")
    .option("--mock", "write a Mock s0 (upper band) / s1 (lower band) pair with PALFA names, for combine_mocks")
    .option("--overlap <n>", "channels the Mock halves share (default about 13% of --nchan, at least 4)")
    .option("--seed <n>", `random seed: the same seed and options give the same bytes (default ${d.seed})`)
    .option("--bits <n>", `4 or 8 bits per sample (default ${d.bits})`)
    .option("--nchan <n>", `channels per file (each half with --mock) (default ${d.nchan})`)
    .option("--fctr <MHz>", `centre of the band (default ${d.fctrMhz})`)
    .option("--bw <MHz>", `bandwidth; channels run high to low, CHAN_BW < 0 (default ${d.bwMhz})`)
    .option("--tsamp <us>", `sample time in microseconds (default ${d.tsampS * 1e6})`)
    .option("--nsblk <n>", `samples per row (default ${d.nsblk})`)
    .option("--length <s>", `length in seconds, rounded up to whole rows (default ${d.lengthS})`)
    .option("--mjd <mjd>", `start MJD (default ${d.startMjd})`)
    .option("--beam <n>", `ALFA beam number, IBEAM and in the names (default ${d.beam})`)
    .option("--source <name>", "SRC_NAME (default: PALFA's Galactic name from --ra/--dec, e.g. G037.34-01.01)")
    .option("--ra <hh:mm:ss.s>", `J2000 right ascension (default ${d.ra})`)
    .option("--dec <dd:mm:ss.s>", `J2000 declination (default ${d.dec})`)
    .option("--period <s>", "add a pulsar with this topocentric period")
    .option("--dm <dm>", "its dispersion measure, pc cm^-3 (default 0)")
    .option("--duty <frac>", `its pulse FWHM / period (default ${d.duty})`)
    .option("--phase <frac>", "its pulse phase at the first sample, at infinite frequency (default 0)")
    .option("--amp <sigma>", "its peak per channel-sample, in noise rms (instead of --snr)")
    .option("--snr <S>", `its folded S/N (matched filter at the true DM and period; default ${d.snr})`)
    .option("--rfi-bursts <n>", "broadband RFI: this many bursts at random times (DM 0, every channel)")
    .option("--rfi-burst-amp <sigma>", "burst amplitude, noise rms (default 3)")
    .option("--rfi-burst-width <s>", "burst length, seconds (default 0.02)")
    .option("--rfi-chan <list>", "narrow-band RFI in these channels (comma-separated; 0 = lowest frequency, as PRESTO numbers them)")
    .option("--rfi-amp <sigma>", "narrow-band RFI amplitude, noise rms (default 3)")
    .option("--rfi-tone <Hz>", "narrow-band RFI modulation frequency, 0 for steady (default 17.3); switched on and off at random")
    .option("--birdie <Hz>", "a periodic signal in every channel, e.g. 60 for mains")
    .option("--birdie-amp <sigma>", "its amplitude, noise rms (default 0.02)")
    .option("--params-json <file>", "write the true parameters (period, DM, S/N, RFI, geometry) here")
    .option("--json", "machine-readable output")
    .action(
      run(async (flags: SynthFlags) => {
        const options = flagsChecked(() => {
          const o = synthOptionsFromFlags(flags);
          planBeam(o); // every value in range
          return o;
        });
        const res = writeSynthBeam(options, flags.out, { paramsJson: flags.paramsJson });
        const t = res.truth;
        if (flags.json) {
          return printJson({
            files: res.files.map((f) => ({ path: f.path, kind: f.kind, bytes: f.bytes, nchan: f.nchan })),
            merged_name: t.merged_name,
            duration_s: t.observation.duration_s,
            rows: t.observation.rows,
            samples: t.observation.samples,
            params_json: res.paramsJson,
            elapsed_ms: Math.round(res.elapsedMs),
            truth: t,
          });
        }
        for (const f of res.files) {
          console.log(
            `wrote ${f.path}  ${mb(f.bytes)}, ${f.nchan} channels ${f.highMhz.toFixed(3)}-${f.lowMhz.toFixed(3)} MHz${f.kind === "single" ? "" : ` (${f.kind})`}`,
          );
        }
        const o = t.observation;
        console.log(
          `${o.duration_s.toFixed(3)} s: ${o.rows} rows of ${o.nsblk} samples of ${(o.tsamp_s * 1e6).toPrecision(6)} us, ` +
            `${o.nbits}-bit, ${o.nchan_total} channels, beam ${o.beam}, ${o.source}, seed ${t.seed}`,
        );
        if (t.pulsar) {
          console.log(
            `pulsar: P ${t.pulsar.period_s} s (topocentric), DM ${t.pulsar.dm}, duty ${t.pulsar.duty_fwhm}, ` +
              `peak ${t.pulsar.amp_sigma.toPrecision(4)} sigma per channel-sample, S/N ${t.pulsar.snr.toFixed(1)}`,
          );
        }
        if (t.merged_name) {
          const s1 = res.files.find((f) => f.kind === "s1")!;
          console.log(`merge: (cd ${path.dirname(s1.path)} && combine_mocks ${path.basename(s1.path)})  -> ${t.merged_name}`);
        }
        if (res.paramsJson) console.log(`parameters: ${res.paramsJson}`);
        console.log(`generated in ${(res.elapsedMs / 1000).toFixed(2)} s`);
      }),
    );

  program
    .command("inject <beam>")
    .description("copy a PSRFITS beam and add a dispersed pulsar to its samples")
    .requiredOption("-o, --out <file>", "the copy to write")
    .requiredOption("--period <s>", "topocentric period, seconds")
    .requiredOption("--dm <dm>", "dispersion measure, pc cm^-3")
    .option("--snr <S>", "folded S/N to aim for (matched filter at the true DM and period, from the beam's own noise)")
    .option("--amp <sigma>", "peak per channel-sample in the channel's noise rms (instead of --snr)")
    .option("--duty <frac>", "pulse FWHM / period (default 0.05)")
    .option("--phase <frac>", "pulse phase at the first sample, at infinite frequency (default 0)")
    .option("--seed <n>", "seed of the rounding dither (default 1)")
    .option("--stats-rows <n>", "rows read to measure each channel's noise (default 64)")
    .option("--params-json <file>", "write the injected parameters here")
    .option("--json", "machine-readable output")
    .action(
      run(async (flags: InjectFlags, beam: string) => {
        const options = flagsChecked(() => ({
          periodS: num("--period", flags.period)!,
          dm: num("--dm", flags.dm)!,
          snr: num("--snr", flags.snr),
          ampSigma: num("--amp", flags.amp),
          duty: num("--duty", flags.duty),
          phase: num("--phase", flags.phase),
          seed: int("--seed", flags.seed),
          statsRows: int("--stats-rows", flags.statsRows),
          paramsJson: flags.paramsJson,
        }));
        const res = injectPulsar(beam, flags.out, options);
        if (flags.json) return printJson({ ...res, elapsedMs: Math.round(res.elapsedMs) });
        console.log(`wrote ${res.output}  ${mb(res.bytes)}, copy of ${res.input} (${res.nbits}-bit, ${res.nchan} channels, ${res.durationS.toFixed(3)} s)`);
        console.log(
          `pulsar: P ${flags.period} s, DM ${flags.dm}, peak ${res.ampSigma.toPrecision(4)} sigma per channel-sample in ${res.channelsInjected} channels, ` +
            `S/N ${res.snr.toFixed(1)}; ${res.samplesChanged} samples changed, ${res.clippedSamples} clipped at the top level`,
        );
        if (res.paramsJson) console.log(`parameters: ${res.paramsJson}`);
        console.log(`done in ${(res.elapsedMs / 1000).toFixed(2)} s`);
      }),
    );
}
