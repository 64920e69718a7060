// The CLI's parts that need no coordinator: tables in linear time, argument checks,
// exit statuses, completion scripts and the man page from the command tree, the
// log format for terminals.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { InvalidArgumentError } from "commander";
import { intOption, numberOption, parseId, parseIds, textOption } from "../../cli/args";
import { bashCompletion, manPage, zshCompletion } from "../../cli/completion";
import { CliError, EXIT, exitForGrpc } from "../../cli/exit-codes";
import { displayWidth, table } from "../../cli/format";
import { buildProgram } from "../../cli/main";
import { logFormat, prettyLine } from "../../shared/logging/logger";

describe("cli: tables", () => {
  it("lays out a boxed table as before (cli-table3's look), wide characters and multi-line cells included", () => {
    assert.equal(
      table(
        ["id", "beam", "x"],
        [
          [1, "ab", "é"],
          [22, "line1\nline two", ""],
          [3, "日本", "-"],
        ],
      ),
      [
        "┌────┬──────────┬───┐",
        "│ id │ beam     │ x │",
        "│ 1  │ ab       │ é │",
        "│ 22 │ line1    │   │",
        "│    │ line two │   │",
        "│ 3  │ 日本     │ - │",
        "└────┴──────────┴───┘",
      ].join("\n"),
    );
    assert.equal(table(["a"], []), "┌───┐\n│ a │\n└───┘");
    assert.equal(displayWidth("\u001b[31mred\u001b[0m"), 3);
    assert.equal(displayWidth("e\u0301"), 1);
  });

  it("renders 50,000 rows in linear time (cli-table3 took minutes)", () => {
    const rows = (n: number) =>
      Array.from({ length: n }, (_, i) => [
        i + 1,
        `p2030.20261206.G45.61-00.${i}.C.w4bit.fits`,
        "processed",
        "0/1",
        "node01",
        "2026-12-06 06:00:00Z",
        "exit 0",
      ]);
    const head = ["id", "beam", "status", "fail/tries", "agent", "updated", "details"];
    const t0 = process.hrtime.bigint();
    const small = table(head, rows(5000));
    const t1 = process.hrtime.bigint();
    const big = table(head, rows(50_000));
    const t2 = process.hrtime.bigint();
    assert.equal(big.split("\n").length, 50_000 + 3);
    assert.equal(small.split("\n").length, 5000 + 3);
    const bigMs = Number(t2 - t1) / 1e6;
    // Ten times the rows, well under a hundred times the time (quadratic would be ~100×).
    assert.ok(bigMs < 40 * Math.max(5, Number(t1 - t0) / 1e6), `5,000 rows ${Number(t1 - t0) / 1e6} ms, 50,000 rows ${bigMs} ms`);
  });
});

describe("cli: argument checks and exit statuses", () => {
  it("ids are positive safe integers; counts, cores and timeouts whole numbers in range; text without line breaks", () => {
    assert.deepEqual(parseIds(["1", "42"]), [1, 42]);
    for (const bad of ["0", "-1", "1.5", "1e3", "0x10", " 5", "", "99999999999999999999", "9007199254740992"]) {
      assert.throws(
        () => parseId(bad),
        (e: unknown) => e instanceof CliError && e.exitCode === EXIT.usage && e.message.startsWith(`not a job id: '${bad}'`),
        bad,
      );
    }
    assert.equal(parseId("9007199254740991"), Number.MAX_SAFE_INTEGER);
    const count = intOption(1, 100);
    assert.equal(count("7"), 7);
    assert.throws(
      () => count("0"),
      (e: unknown) => e instanceof InvalidArgumentError && /too small \(at least 1\)/.test(e.message),
    );
    assert.throws(() => count("101"), /too large \(at most 100\)/);
    assert.throws(() => count("2.5"), /not a whole number/);
    assert.throws(() => intOption(0)("4294967296"), /too large/);
    assert.equal(numberOption(0)("1.5"), 1.5);
    assert.throws(() => numberOption(0)("-1"), /too small/);
    assert.throws(() => numberOption(0)("NaN"), /not a number/);
    assert.throws(() => textOption("--name")("a\nb"), /--name holds a line break/);
    assert.throws(() => textOption("--name")(" "), /--name is empty/);
  });

  it("gRPC status codes map to exit statuses", () => {
    assert.equal(exitForGrpc(grpc.status.NOT_FOUND), EXIT.notFound);
    assert.equal(exitForGrpc(grpc.status.FAILED_PRECONDITION), EXIT.refused);
    assert.equal(exitForGrpc(grpc.status.INVALID_ARGUMENT), EXIT.refused);
    assert.equal(exitForGrpc(grpc.status.UNAVAILABLE), EXIT.unavailable);
    assert.equal(exitForGrpc(grpc.status.DEADLINE_EXCEEDED), EXIT.unavailable);
    assert.equal(exitForGrpc(grpc.status.UNAUTHENTICATED), EXIT.permission);
    assert.equal(exitForGrpc(grpc.status.INTERNAL), EXIT.internal);
    assert.equal(new Set(Object.values(EXIT)).size, Object.values(EXIT).length, "distinct");
  });
});

describe("cli: completion and man page from the command tree", () => {
  const program = buildProgram();
  const commands = program.commands.map((c) => c.name());

  it("bash: valid syntax, every command and every option of each", function () {
    const script = bashCompletion(program);
    const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    for (const c of program.commands) {
      assert.match(script, new RegExp(`^    ${c.name()}\\) words='`, "m"), c.name());
      for (const o of c.options) if (o.long) assert.ok(script.includes(o.long), `${c.name()} ${o.long}`);
    }
    assert.match(script, /^complete -o filenames -F _beamflow beamflow$/m);
    // The first word completes to the commands.
    const r2 = spawnSync("bash", ["-c", `${script}\nCOMP_WORDS=(beamflow jo); COMP_CWORD=1; _beamflow; echo "\${COMPREPLY[@]}"`], { encoding: "utf8" });
    assert.equal(r2.stdout.trim(), "jobs job");
    const r3 = spawnSync("bash", ["-c", `${script}\nCOMP_WORDS=(beamflow submit --co); COMP_CWORD=2; _beamflow; echo "\${COMPREPLY[@]}"`], {
      encoding: "utf8",
    });
    assert.equal(r3.stdout.trim(), "--count --cores");
  });

  it("zsh: every command with its description and options (syntax checked where zsh is installed)", function () {
    const script = zshCompletion(program);
    assert.match(script, /^#compdef beamflow$/m);
    for (const c of program.commands) {
      assert.ok(script.includes(`\n    '${c.name()}:`), c.name());
      assert.ok(script.includes(`\n        ${c.name()})\n`), c.name());
    }
    const zsh = spawnSync("zsh", ["-n"], { input: script, encoding: "utf8" });
    if (!zsh.error) assert.equal(zsh.status, 0, zsh.stderr);
  });

  it("man: a section per command with its options, the environment and the exit statuses", () => {
    const page = manPage(program);
    assert.match(page, /^\.TH BEAMFLOW 1 /m);
    for (const c of program.commands) {
      assert.ok(page.includes(`.SS "beamflow ${c.name().replace(/-/g, "\\-")} `), c.name());
      for (const o of c.options) if (o.long) assert.ok(page.includes(`\\fB${o.long.replace(/-/g, "\\-")}\\fR`), `${c.name()} ${o.long}`);
    }
    assert.match(page, /^\.SH EXIT STATUS$/m);
    assert.match(page, /^66 +not found/m);
    assert.match(page, /^\.SH ENVIRONMENT$/m);
    assert.ok(commands.includes("completion") && commands.includes("man"));
    const man = spawnSync("man", ["-l", "-"], { input: page, encoding: "utf8", env: { ...process.env, MANWIDTH: "100" } });
    if (!man.error && man.status === 0) assert.match(man.stdout, /beamflow submit \[options\] <argv\.\.\.>/);
  });
});

describe("logging: readable on a terminal, JSON elsewhere", () => {
  it("chooses the format from BEAMFLOW_LOG_FORMAT, else from whether stderr is a terminal", () => {
    assert.equal(logFormat({}, true), "pretty");
    assert.equal(logFormat({}, false), "json");
    assert.equal(logFormat({ BEAMFLOW_LOG_FORMAT: "json" }, true), "json");
    assert.equal(logFormat({ BEAMFLOW_LOG_FORMAT: "pretty" }, false), "pretty");
  });

  it("a record as one line: time, level, component, message, then the other fields", () => {
    const t = new Date(2026, 11, 6, 6, 12, 1, 345).getTime();
    const line = prettyLine(
      JSON.stringify({ level: 40, time: t, component: "agent", pid: 1, agent: "n1", job: 7, reason: "no space left", msg: "attempt failed" }),
    );
    assert.equal(line, `06:12:01.345 WARN  agent: attempt failed agent=n1 job=7 reason="no space left"\n`);
    const err = prettyLine(JSON.stringify({ level: 50, time: t, component: "coordinator", msg: "boom", err: { message: "x", stack: "Error: x\n    at f" } }));
    assert.equal(err, "06:12:01.345 ERROR coordinator: boom\n    Error: x\n        at f\n");
    assert.equal(prettyLine("not json"), "not json\n");
  });
});
