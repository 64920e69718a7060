// add-files refuses a palfa-search beam that no search could use, with the reason, and
// registers nothing: an empty file, garbage, a truncated PSRFITS file, a beam too short.
// (A file spoilt after registration fails its job at the first attempt: test/spine/bad-input.test.ts.)
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AddFilesError, registerFiles } from "../../../coordinator/ingest/register";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker } from "../../../coordinator/tracker/tracker";
import { defaultConfig } from "../../../shared/config/load";

const BEAM = path.resolve(__dirname, "../../fixtures/psrfits/p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");

describe("ingest: unsearchable beams refused at add-files", () => {
  let tmp: string;
  let tracker: Tracker;
  const config = (lowT = 0.5) => defaultConfig(tmp, { jobs: { type: "palfa-search" }, search: { low_T_to_search: lowT } });
  const refusal = async (file: string, lowT?: number, overrides?: Record<string, unknown>): Promise<string> => {
    const err = await registerFiles(tracker, [file], { ...config(lowT), searchOverrides: overrides }).then(
      () => assert.fail(`${file} was registered`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AddFilesError, String(err));
    assert.equal(tracker.files.tracked().length, 0, "nothing registered");
    return err.message;
  };

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-validate-"));
    createTracker(path.join(tmp, "tracker.db"));
    tracker = new Tracker(openTracker(path.join(tmp, "tracker.db")));
  });
  afterEach(() => {
    tracker.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("an empty file, garbage, a truncated beam", async () => {
    const empty = path.join(tmp, "empty.fits");
    fs.writeFileSync(empty, "");
    assert.match(await refusal(empty), /empty\.fits: not a FITS file: .*nothing was registered/);
    const garbage = path.join(tmp, "garbage.fits");
    fs.writeFileSync(garbage, Buffer.alloc(10_000, 0x5a));
    assert.match(await refusal(garbage), /garbage\.fits: not a FITS file/);
    const cut = path.join(tmp, "cut.fits");
    fs.writeFileSync(cut, fs.readFileSync(BEAM).subarray(0, 200_000));
    assert.match(await refusal(cut), /cut\.fits: truncated: /);
  });

  it("a beam shorter than low_T_to_search, from the config or the call's own --param", async () => {
    const beam = path.join(tmp, "short.fits");
    fs.copyFileSync(BEAM, beam);
    assert.match(await refusal(beam, 20), /short\.fits: too short to search: the observation is 1\.07 s long, shorter than low_T_to_search = 20 s/);
    assert.match(await refusal(beam, 0.5, { low_T_to_search: 5 }), /shorter than low_T_to_search = 5 s/);
    const ok = await registerFiles(tracker, [beam], config(0.5));
    assert.equal(ok.jobsCreated.length, 1);
  });

  it("command jobs take any file", async () => {
    const garbage = path.join(tmp, "garbage.dat");
    fs.writeFileSync(garbage, "not a beam");
    const r = await registerFiles(tracker, [garbage], defaultConfig(tmp, { jobs: { type: "commands", commands: [{ name: "x", argv: ["true"] }] } }));
    assert.equal(r.jobsCreated.length, 1);
  });
});
