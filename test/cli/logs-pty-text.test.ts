// `beamflow logs` turns a pty's \r\n into \n on the bytes as they arrive: a pair split
// between two pieces, a lone \r kept, a UTF-8 character split between pieces whole, and a
// piece without \r written as it came (no copy).
import assert from "node:assert/strict";
import { PtyText } from "../../cli/logs-command";

describe("logs: pty text", () => {
  const run = (pieces: string[] | Buffer[]) => {
    const t = new PtyText();
    return Buffer.concat(pieces.map((p) => t.write(Buffer.isBuffer(p) ? p : Buffer.from(p)))).toString();
  };

  it("turns \\r\\n into \\n, also split between pieces, and keeps a lone \\r", () => {
    assert.equal(run(["a\r\nb\r\n"]), "a\nb\n");
    assert.equal(run(["a\r", "\nb\r", "\n"]), "a\nb\n");
    assert.equal(run(["50%\r60%\r", "100%\r\n"]), "50%\r60%\r100%\n");
    assert.equal(run(["a\r", "", "\n"]), "a\n");
    assert.equal(run(["a\r", "b"]), "a\rb");
  });

  it("passes bytes through: a UTF-8 character split between pieces comes out whole, and a piece without \\r is not copied", () => {
    const euro = Buffer.from("€\r\n");
    assert.equal(run([euro.subarray(0, 1), euro.subarray(1, 4), euro.subarray(4)]), "€\n");
    const t = new PtyText();
    const plain = Buffer.from("no carriage returns here\n");
    assert.equal(t.write(plain), plain);
  });
});
