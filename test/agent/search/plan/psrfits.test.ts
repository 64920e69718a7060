import assert from "node:assert/strict";
import fs from "node:fs";
import {
  BLOCK_LENGTH,
  CardSyntaxError,
  PsrfitsError,
  type PsrfitsProblem,
  formatValueCard,
  parseCard,
  readPsrfitsHeader,
  startMjdString,
  writeHeaderOnlyCopy,
} from "../../../../shared/psrfits";
import { formatG } from "../../../../shared/presto/pycompat";
import { COMBINED, HALF_S0, HALF_S1, Scratch, get, readfileValues } from "./helpers";

/** readfile prints doubles with "%-17.15g" and these strings are what we compare with. */
const g15 = (x: number): string => formatG(x, 15);

function assertPsrfitsError(fn: () => unknown, problem: PsrfitsProblem, file: string, detail: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PsrfitsError, `expected PsrfitsError, got ${String(err)}`);
    assert.equal(err.problem, problem, err.message);
    assert.equal(err.file, file);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.match(err.detail, detail);
    return true;
  });
}

describe("search/psrfits: header of real Mock PSRFITS files", () => {
  it("reads combine_mocks' output as PRESTO's readfile does", () => {
    const rf = readfileValues("readfile_combined.txt");
    const h = readPsrfitsHeader(COMBINED);
    assert.equal(h.telescope, get(rf, "Telescope"));
    assert.equal(h.observer, get(rf, "Observer"));
    assert.equal(h.source, get(rf, "Source Name"));
    assert.equal(h.frontend, get(rf, "Frontend"));
    assert.equal(h.backend, get(rf, "Backend"));
    assert.equal(h.projid, get(rf, "Project ID"));
    assert.equal(h.ra, get(rf, "RA J2000"));
    assert.equal(h.dec, get(rf, "Dec J2000"));
    assert.equal(h.dateObs.slice(0, 23), get(rf, "Obs Date String"));
    // readfile prints the long-double start MJD with 14 decimals.
    assert.equal(h.startMjdString.slice(0, "60000.".length + 14), get(rf, "MJD start time (STT_*)"));
    assert.equal(h.startMjd, 60000.25);
    assert.deepEqual([h.sttImjd, h.sttSmjd, h.sttOffs], [60000, 21600, 0]);
    assert.equal(g15(h.subint.tbin * 1e6), get(rf, "Sample time (us)"));
    assert.equal(g15(h.centreFreqMhz), get(rf, "Central freq (MHz)"));
    // PRESTO reads DAT_FREQ as doubles but swaps lo/hi for an inverted band through a
    // float temporary, so its low channel carries float32 rounding and its high does not.
    assert.equal(g15(Math.fround(h.lowChannelMhz as number)), get(rf, "Low channel (MHz)"));
    assert.equal(g15(h.highChannelMhz as number), get(rf, "High channel (MHz)"));
    assert.equal(g15(Math.abs(h.subint.chanBw)), get(rf, "Channel width (MHz)"));
    assert.equal(String(h.subint.nchan), get(rf, "Number of channels"));
    assert.equal(g15(h.bandwidthMhz), get(rf, "Total Bandwidth (MHz)"));
    assert.equal(String(h.subint.nsblk), get(rf, "Spectra per subint"));
    assert.equal(String(h.subint.rows), get(rf, "Subints per file"));
    assert.equal(String(h.samples), get(rf, "Spectra per file"));
    assert.equal(g15(h.rowDurationS), get(rf, "Time per subint (sec)"));
    assert.equal(g15(h.durationS), get(rf, "Time per file (sec)"));
    assert.equal(String(h.subint.nbits), get(rf, "bits per sample"));
    assert.equal(String(h.subint.data?.bytes), get(rf, "bytes per subint"));
    assert.equal(String(h.subint.nchan * h.subint.npol), get(rf, "samples per spectra"));
    assert.equal(h.channelsHighToLow ? "True" : "False", get(rf, "Invert the band?"));
    assert.equal(String(h.subint.data?.number), get(rf, "DATA column"));
    // POL_TYPE AA+BB is what makes PRESTO call the (NPOL = 1) data "2 (summed)".
    assert.equal(h.subint.npol, 1);
    assert.equal(get(rf, "Number of polns"), "2 (summed)");
    assert.equal(h.subint.polType, get(rf, "Polarization order"));
    // combine_mocks drops IBEAM (readfile shows its default "0 of 1") and keeps a half's OBSNCHAN.
    assert.equal(h.beamId, null);
    assert.equal(h.obsNchan, 34);
    assert.equal(h.obsFreqMhz, 1380.540625);
    assert.equal(h.obsBwMhz, 332.68125);
  });

  it("gives the SUBINT geometry, column layout and data/heap offsets of the combined file", () => {
    const h = readPsrfitsHeader(COMBINED);
    const s = h.subint;
    assert.equal(h.fileBytes, 567360);
    assert.equal(h.fitsType, "PSRFITS");
    assert.equal(h.obsMode, "SEARCH");
    assert.equal(s.hduIndex, 1);
    assert.equal(s.headerOffset, 2 * BLOCK_LENGTH);
    assert.equal(s.dataOffset, 5 * BLOCK_LENGTH);
    assert.deepEqual([s.rowBytes, s.rows, s.heapBytes], [68980, 8, 0]);
    assert.equal(s.tableBytes, 8 * 68980);
    assert.equal(s.heapOffset, 14400 + 8 * 68980);
    assert.deepEqual([s.nsblk, s.nchan, s.npol, s.nbits], [2048, 66, 1, 4]);
    assert.equal(s.tbin, 6.54759999999999e-5);
    assert.equal(s.chanBw, -5.040625);
    assert.equal(s.columns.length, 17);
    const layout = (c: typeof s.data) => (c === null ? null : [c.number, c.tform.trim(), c.offset, c.bytes]);
    assert.deepEqual(layout(s.datFreq), [13, "66D", 7 * 8 + 5 * 4, 66 * 8]);
    assert.deepEqual(layout(s.datWts), [14, "66E", 604, 264]);
    assert.deepEqual(layout(s.datOffs), [15, "66E", 868, 264]);
    assert.deepEqual(layout(s.datScl), [16, "66E", 1132, 264]);
    assert.deepEqual(layout(s.data), [17, "67584B", 1396, 67584]);
    assert.deepEqual(s.data?.tdim, [1, 66, 1, 2048]);
    // The last column ends exactly at NAXIS1.
    assert.equal((s.data?.offset ?? 0) + (s.data?.bytes ?? 0), s.rowBytes);
    assert.equal(h.samples, 8 * 2048);
    assert.equal(h.durationS, 8 * 2048 * 6.54759999999999e-5);
    assert.equal(h.channelsHighToLow, true);
    assert.equal(h.highChannelMhz, 1544.3609375000003);
    assert.equal(h.lowChannelMhz, 1216.7203125);
    assert.equal(h.headerOnly, false);
    assert.equal(h.originalRows, 8);
    // combine_mocks' TDIM counts 4-bit samples, not bytes: noted, not fatal.
    assert.equal(h.warnings.length, 1);
    assert.match(h.warnings[0], /^TDIM17 \(1,66,1,2048\) has 135168 elements but TFORM17 repeats 67584/);
  });

  it("reads a Mock half (s0) as readfile does, including IBEAM", () => {
    const rf = readfileValues("readfile_s0.txt");
    const h = readPsrfitsHeader(HALF_S0);
    assert.equal(h.backend, get(rf, "Backend"));
    assert.equal(h.startMjdString.slice(0, 20), get(rf, "MJD start time (STT_*)"));
    assert.equal(g15(h.centreFreqMhz), get(rf, "Central freq (MHz)"));
    assert.equal(g15(Math.fround(h.lowChannelMhz as number)), get(rf, "Low channel (MHz)"));
    assert.equal(g15(h.highChannelMhz as number), get(rf, "High channel (MHz)"));
    assert.equal(String(h.subint.nchan), get(rf, "Number of channels"));
    assert.equal(g15(h.bandwidthMhz), get(rf, "Total Bandwidth (MHz)"));
    assert.equal(String(h.subint.rows), get(rf, "Subints per file"));
    assert.equal(String(h.samples), get(rf, "Spectra per file"));
    assert.equal(String(h.subint.data?.bytes), get(rf, "bytes per subint"));
    assert.equal(String(h.subint.data?.number), get(rf, "DATA column"));
    assert.equal(h.channelsHighToLow ? "True" : "False", get(rf, "Invert the band?"));
    assert.equal(h.beamId, 0);
    assert.equal(h.obsBwMhz, -171.38125);
    assert.deepEqual(h.warnings, []);
    assert.equal(h.subint.columns[0].name, "INDEXVAL");
  });

  it("reads the other half (s1): the lower band", () => {
    const h = readPsrfitsHeader(HALF_S1);
    assert.equal(h.obsFreqMhz, 1299.890625);
    assert.equal(h.centreFreqMhz, 1299.890625);
    assert.equal(h.lowChannelMhz, 1216.7203125);
    assert.equal(Math.round((h.highChannelMhz as number) * 1e7) / 1e7, 1383.0609375);
    // The halves overlap by 4 channels: s1's top is s0's bottom + 3 channel widths.
    const s0 = readPsrfitsHeader(HALF_S0);
    assert.ok(Math.abs((h.highChannelMhz as number) - ((s0.lowChannelMhz as number) + 3 * 5.040625)) < 1e-9);
    assert.equal(h.beamId, 0);
    assert.equal(h.samples, 16384);
  });
});

describe("search/psrfits: damaged and foreign files raise PsrfitsError", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("a copy missing its last data byte is truncated, with the numbers", () => {
    const p = scratch.truncatedCopy(COMBINED, 14400 + 8 * 68980 - 1, "short.fits");
    assertPsrfitsError(
      () => readPsrfitsHeader(p),
      "truncated",
      p,
      /^8 rows of 68980 bytes need 551840 bytes of data after the SUBINT header \(byte 14400\), the file has 551839$/,
    );
    assert.throws(() => readPsrfitsHeader(p), /: truncated: 8 rows of 68980 bytes need 551840 bytes/);
  });

  it("a copy cut half-way through the rows is truncated", () => {
    const p = scratch.truncatedCopy(HALF_S0, 14400 + 3 * 35580 + 17, "half.fits");
    assertPsrfitsError(() => readPsrfitsHeader(p), "truncated", p, /the file has 106757$/);
  });

  it("a copy without only the final block padding is accepted, with a warning", () => {
    const p = scratch.truncatedCopy(COMBINED, 14400 + 8 * 68980, "nopad.fits");
    const h = readPsrfitsHeader(p);
    assert.equal(h.subint.rows, 8);
    assert.ok(
      h.warnings.some((w) => /padding missing/.test(w)),
      h.warnings.join("; "),
    );
  });

  it("a copy cut inside the SUBINT header has no END", () => {
    const p = scratch.truncatedCopy(COMBINED, 3 * BLOCK_LENGTH, "cut-header.fits");
    assertPsrfitsError(() => readPsrfitsHeader(p), "no-end", p, /header starting at byte 5760 has no END card/);
  });

  it("a primary header whose END card was blanked has no END", () => {
    const buf = Buffer.from(fs.readFileSync(HALF_S0).subarray(0, 2 * BLOCK_LENGTH));
    const text = buf.toString("latin1");
    const end = text.indexOf("END" + " ".repeat(77));
    assert.ok(end > 0 && end % 80 === 0);
    buf.write(" ".repeat(80), end, "latin1");
    const p = scratch.path("no-end.fits");
    fs.writeFileSync(p, buf);
    assertPsrfitsError(() => readPsrfitsHeader(p), "no-end", p, /primary header starting at byte 0 has no END card/);
  });

  it("a file holding only the primary HDU has no SUBINT", () => {
    const p = scratch.truncatedCopy(COMBINED, 2 * BLOCK_LENGTH, "primary-only.fits");
    assertPsrfitsError(() => readPsrfitsHeader(p), "no-subint", p, /no BINTABLE HDU with EXTNAME = 'SUBINT'; found primary$/);
  });

  it("a table with another EXTNAME is not a SUBINT table", () => {
    const buf = Buffer.from(fs.readFileSync(HALF_S1));
    const at = buf.indexOf("EXTNAME = 'SUBINT  '", 0, "latin1");
    assert.ok(at > 0);
    buf.write("EXTNAME = 'POLYCO  '", at, "latin1");
    const p = scratch.path("renamed.fits");
    fs.writeFileSync(p, buf);
    assertPsrfitsError(() => readPsrfitsHeader(p), "no-subint", p, /found primary, BINTABLE POLYCO$/);
  });

  it("a text file, an empty file and a binary blob are not FITS", () => {
    const txt = scratch.path("readfile.txt");
    fs.writeFileSync(txt, fs.readFileSync(`${__dirname}/fixtures/readfile_combined.txt`));
    assertPsrfitsError(() => readPsrfitsHeader(txt), "not-fits", txt, /shorter than one 2880-byte FITS block/);
    const empty = scratch.path("empty.fits");
    fs.writeFileSync(empty, "");
    assertPsrfitsError(() => readPsrfitsHeader(empty), "not-fits", empty, /0 bytes/);
    // The data part of a real file: 2880+ bytes that are not a header.
    const blob = scratch.path("blob.fits");
    fs.writeFileSync(blob, fs.readFileSync(COMBINED).subarray(14400, 14400 + 4 * BLOCK_LENGTH));
    assertPsrfitsError(() => readPsrfitsHeader(blob), "not-fits", blob, /does not start with a FITS primary header/);
  });

  it("a header that lacks NSBLK says so", () => {
    const buf = Buffer.from(fs.readFileSync(HALF_S0));
    const at = buf.indexOf("NSBLK   =", 0, "latin1");
    buf.write("NSBLKX  =", at, "latin1");
    const p = scratch.path("no-nsblk.fits");
    fs.writeFileSync(p, buf);
    assertPsrfitsError(() => readPsrfitsHeader(p), "bad-header", p, /^the SUBINT header has no NSBLK keyword$/);
  });

  it("a missing file is an io error naming it", () => {
    const p = scratch.path("absent.fits");
    assertPsrfitsError(() => readPsrfitsHeader(p), "io", p, /cannot open/);
  });
});

describe("search/psrfits: writeHeaderOnlyCopy", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  for (const [label, src] of [
    ["combined", COMBINED],
    ["half s0", HALF_S0],
  ] as const) {
    it(`writes primary HDU + SUBINT header with NAXIS2 = 0 and no data (${label})`, () => {
      const dest = scratch.path(`${label.replace(" ", "_")}_header.fits`);
      const original = readPsrfitsHeader(src);
      const copy = writeHeaderOnlyCopy(src, dest);
      const bytes = fs.readFileSync(dest);
      assert.equal(bytes.length % BLOCK_LENGTH, 0);
      assert.equal(bytes.length, copy.subint.dataOffset, "nothing after the SUBINT header");
      // The primary HDU is copied byte for byte.
      const primaryLength = original.subint.headerOffset;
      assert.ok(bytes.subarray(0, primaryLength).equals(fs.readFileSync(src).subarray(0, primaryLength)));
      assert.equal(copy.headerOnly, true);
      assert.equal(copy.originalRows, original.subint.rows);
      assert.equal(copy.subint.rows, 0);
      assert.equal(copy.samples, 0);
      assert.equal(copy.subint.tableBytes, 0);
      assert.equal(copy.subint.rowBytes, original.subint.rowBytes);
      assert.deepEqual(
        copy.subint.columns.map((c) => [c.name, c.tform, c.offset]),
        original.subint.columns.map((c) => [c.name, c.tform, c.offset]),
      );
      for (const key of ["telescope", "backend", "source", "ra", "dec", "startMjdString", "obsFreqMhz", "beamId"] as const) {
        assert.equal(copy[key], original[key], key);
      }
      assert.equal(copy.subint.nsblk, original.subint.nsblk);
      assert.equal(copy.subint.tbin, original.subint.tbin);
      // Without rows there is no DAT_FREQ to read: the centre falls back to OBSFREQ.
      assert.equal(copy.centreFreqMhz, original.obsFreqMhz);
      assert.equal(copy.lowChannelMhz, null);
      // Every card is an 80-column FITS card; NAXIS2/PCOUNT are in fixed format.
      const header = bytes.subarray(primaryLength).toString("latin1");
      const cards = header.match(/.{80}/g) ?? [];
      assert.ok(cards.some((c) => c === formatValueCard("ORIGNAX2", original.subint.rows, "NAXIS2 before the rows were dropped")));
      const naxis2 = cards.find((c) => c.startsWith("NAXIS2  ="));
      assert.equal(naxis2?.slice(10, 30), "0".padStart(20));
      assert.ok(!cards.some((c) => c.startsWith("THEAP")));
      assert.ok(cards.some((c) => c.startsWith("END ")));
    });
  }

  it("drops combine_mocks' illegal TDIM17 in the copy (so fitsverify passes) and says so", () => {
    const dest = scratch.path("tdim.fits");
    const copy = writeHeaderOnlyCopy(COMBINED, dest);
    assert.equal(copy.subint.data?.tdim, null);
    assert.deepEqual(copy.warnings, []);
    const text = fs.readFileSync(dest, "latin1");
    assert.ok(!text.includes("TDIM17  ="));
    assert.match(text, /HISTORY TDIM17 = '\(1,66,1,2048\)' dropped/);
  });

  it("refuses to describe a truncated beam and leaves no file behind", () => {
    const src = scratch.truncatedCopy(COMBINED, 20000, "trunc-src.fits");
    const dest = scratch.path("trunc-dest.fits");
    assert.throws(() => writeHeaderOnlyCopy(src, dest), PsrfitsError);
    assert.equal(fs.existsSync(dest), false);
  });
});

describe("search/psrfits: FITS cards", () => {
  const card = (s: string) => s.padEnd(80);

  it("reads strings (with '' quotes), integers, floats with D exponents, logicals and comments", () => {
    assert.deepEqual(parseCard(card("SRC_NAME= 'G037.00-00.10'      / Source or scan ID")).value, {
      kind: "string",
      value: "G037.00-00.10",
    });
    const quoted = parseCard(card("OBSERVER= 'O''Brien '"));
    assert.deepEqual(quoted.value, { kind: "string", value: "O'Brien" });
    const tbin = parseCard(card("TBIN    = 6.54759999999999E-05 / [s] Time per bin or sample"));
    assert.deepEqual(tbin.value, { kind: "float", value: 6.54759999999999e-5, text: "6.54759999999999E-05" });
    assert.equal(tbin.comment, "[s] Time per bin or sample");
    assert.deepEqual(parseCard(card("X       = 1.5D3")).value, { kind: "float", value: 1500, text: "1.5D3" });
    assert.deepEqual(parseCard(card("FD_SANG =                  45. / deg")).value, { kind: "float", value: 45, text: "45." });
    assert.deepEqual(parseCard(card("NAXIS2  =                  299")).value, { kind: "int", value: 299, text: "299" });
    assert.deepEqual(parseCard(card("EXTEND  =                    T")).value, { kind: "bool", value: true });
    assert.deepEqual(parseCard(card("BLANK   =                      / nothing")).value, { kind: "undefined" });
    assert.equal(parseCard(card("COMMENT   FITS (Flexible Image Transport System)")).value, null);
    assert.equal(parseCard(card("HISTORY = 'not a value'")).value, null);
  });

  it("rejects malformed cards", () => {
    assert.throws(() => parseCard(card("NAME    = 'unterminated")), CardSyntaxError);
    assert.throws(() => parseCard(card("NUM     = 12abc")), CardSyntaxError);
    assert.throws(() => parseCard("SHORT   = 1"), CardSyntaxError);
    assert.throws(() => parseCard(card("BAD\u0001    = 1")), CardSyntaxError);
  });

  it("writes fixed-format integer cards that read back", () => {
    const c = formatValueCard("NAXIS2", 0, "Number of rows in table (NSUBINT)");
    assert.equal(c.length, 80);
    assert.equal(c, "NAXIS2  =                    0 / Number of rows in table (NSUBINT)".padEnd(80));
    assert.deepEqual(parseCard(c).value, { kind: "int", value: 0, text: "0" });
  });

  it("computes the start MJD exactly from STT_* texts", () => {
    assert.equal(startMjdString(60000, 21600, "0."), "60000.25000000000000000000");
    // 1 s after 21600 s: 0.25 + 1/86400 = 0.2500115740740740740740...
    assert.equal(startMjdString(60000, 21601, "0.0", 20), "60000.25001157407407407407");
    assert.equal(startMjdString(55555, 86399, "1.5E+00", 6), "55556.000006");
  });
});
