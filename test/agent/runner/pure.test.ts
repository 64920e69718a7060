// The pure parts of the runner: the wrapper's status file, outcome classification and
// the bounded output tail.
import assert from "node:assert/strict";
import { EndMarkerScanner, newEndMarker } from "../../../agent/runner/end-marker";
import { classify } from "../../../agent/runner/outcome";
import { OutputTail } from "../../../agent/runner/output-tail";
import { decodeShellStatus, parseStatus } from "../../../agent/runner/wrapper";

describe("runner internals", function () {
  it("parses the wrapper's status file (exit status + children's user/sys times)", () => {
    assert.deepEqual(parseStatus("exit 0\n0m0.002s 0m0.001s\n0m0.846s 0m0.104s\n"), { kind: "ran", rc: 0, cpuS: 0.95 });
    assert.deepEqual(parseStatus("exit 3\n0m0.000s 0m0.000s\n1m2.500s 0m0.500s\n"), { kind: "ran", rc: 3, cpuS: 63 });
    assert.deepEqual(parseStatus("spawn 127 foo: command not found in PATH\n"), { kind: "spawn", rc: 127, message: "foo: command not found in PATH" });
    assert.equal(parseStatus(""), undefined);
    assert.equal(parseStatus("exit 0\n"), undefined);
  });

  it("decodes 128+N as signal N, other statuses as exit codes", () => {
    assert.deepEqual(decodeShellStatus(137), { signal: "SIGKILL" });
    assert.deepEqual(decodeShellStatus(143), { signal: "SIGTERM" });
    assert.deepEqual(decodeShellStatus(2), { exitCode: 2 });
    assert.deepEqual(decodeShellStatus(128), { exitCode: 128 });
    assert.deepEqual(decodeShellStatus(255), { exitCode: 255 });
  });

  it("classifies: runner's cause > spawn > signal > exit code; falls back when the wrapper was SIGKILLed", () => {
    assert.deepEqual(classify({ status: { kind: "ran", rc: 0, cpuS: 1.23456 } }), { exitCode: 0, cpuS: 1.235 });
    const killed = classify({
      cause: { cls: "timeout", message: "exceeded its time limit of 5 s (timeoutS)" },
      ptyExit: { exitCode: 0, signal: 9 },
      terminate: { lastSignal: "SIGKILL", cpuBeforeKillS: 4.2, gone: true },
      pgid: 77,
    });
    assert.equal(killed.errorClass, "timeout");
    assert.equal(killed.signal, "SIGKILL");
    assert.equal(killed.cpuS, 4.2);
    assert.equal(killed.error, "exceeded its time limit of 5 s (timeoutS); process group 77 killed with SIGKILL");
    const ext = classify({ ptyExit: { exitCode: 0, signal: 9 }, lastOutputLine: "x" });
    assert.equal(ext.errorClass, "signal");
    assert.match(ext.error!, /killed by SIGKILL \(the step wrapper did not report; CPU time unknown\); last output: "x"/);
    assert.equal(classify({ spawnError: "empty argv" }).errorClass, "spawn");
    assert.equal(classify({ status: { kind: "spawn", rc: 127, message: "m" } }).errorClass, "spawn");
  });

  it("keeps only a bounded tail of output and finds its last line", () => {
    const t = new OutputTail(64);
    t.push(Buffer.from("x".repeat(10_000)));
    t.push(Buffer.from("\r\n\x1b[31mERROR: bad beam\x1b[0m\r\n\r\n"));
    assert.equal(t.lastLine(), "ERROR: bad beam");
    assert.ok((t as unknown as { buf: Buffer }).buf.length <= 64);
    t.push(Buffer.from("progress 10%\rprogress 20%\r"));
    assert.equal(t.lastLine(), "progress 20%");
    assert.equal(new OutputTail().lastLine(), undefined);
  });

  it("cuts the end marker out of the stream, even when split across chunks", () => {
    const m = newEndMarker();
    assert.notDeepEqual(m, newEndMarker(), "random per step");
    const stream = Buffer.concat([Buffer.from("out\x1b[1mbold\x1b"), m, Buffer.from("after")]);
    for (let cut1 = 0; cut1 <= stream.length; cut1 += 3) {
      for (const cut2 of [cut1, Math.min(stream.length, cut1 + 7)]) {
        const sc = new EndMarkerScanner(m);
        const got = Buffer.concat([sc.push(stream.subarray(0, cut1)), sc.push(stream.subarray(cut1, cut2)), sc.push(stream.subarray(cut2))]);
        assert.equal(got.toString("latin1"), "out\x1b[1mbold\x1b", `cuts ${cut1},${cut2}`);
        assert.equal(sc.found, true);
      }
    }
    // a chunk ending in what looks like the marker's start is held back, then released
    const sc = new EndMarkerScanner(m);
    assert.equal(sc.push(Buffer.concat([Buffer.from("a"), m.subarray(0, 5)])).toString(), "a");
    assert.equal(sc.push(Buffer.from("b")).toString("latin1"), m.subarray(0, 5).toString("latin1") + "b");
    assert.equal(sc.push(m.subarray(0, 3)).length, 0);
    assert.deepEqual(sc.flush(), m.subarray(0, 3), "released if the stream ends without the marker");
  });
});
