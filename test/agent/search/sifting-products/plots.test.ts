// The small raster plotting module behind the sifting plots.

import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { Canvas, Figure, dataLimits, formatTick, histogram, linearTicks, logTicks, niceStep, textWidth } from "../../../../agent/search/plots";
import { glyph } from "../../../../agent/search/plots/font";

type Px = [number, number, number];

function pixel(c: Canvas, x: number, y: number): Px {
  const i = (y * c.width + x) * 4;
  return [c.data[i]!, c.data[i + 1]!, c.data[i + 2]!];
}

function inkBox(c: Canvas): { x0: number; y0: number; x1: number; y1: number } | null {
  let box: { x0: number; y0: number; x1: number; y1: number } | null = null;
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      const [r, g, b] = pixel(c, x, y);
      if (r === 255 && g === 255 && b === 255) continue;
      box = box
        ? { x0: Math.min(box.x0, x), y0: Math.min(box.y0, y), x1: Math.max(box.x1, x + 1), y1: Math.max(box.y1, y + 1) }
        : { x0: x, y0: y, x1: x + 1, y1: y + 1 };
    }
  }
  return box;
}

describe("search/plots (raster plotting)", () => {
  describe("font", () => {
    it("has a distinct, non-empty glyph for every printable ASCII character", () => {
      const seen = new Map<string, string>();
      for (let code = 33; code <= 126; code++) {
        const ch = String.fromCharCode(code);
        const g = glyph(ch);
        assert.equal(g.length, 5);
        assert.ok(
          g.some((col) => col !== 0),
          `empty glyph for ${ch}`,
        );
        const key = g.join(",");
        assert.ok(!seen.has(key), `${ch} looks like ${seen.get(key)}`);
        seen.set(key, ch);
      }
      assert.deepEqual(glyph(" "), [0, 0, 0, 0, 0]);
      assert.deepEqual(glyph("\u03c3"), glyph("?"));
    });

    it("draws text inside the box textWidth and the cap height describe", () => {
      const c = new Canvas(200, 60);
      const w = c.text(10, 20, "DM 57.00", { scale: 2 });
      assert.equal(w, textWidth("DM 57.00", 2));
      assert.equal(w, (8 * 6 - 1) * 2);
      assert.deepEqual(inkBox(c), { x0: 10, y0: 20, x1: 10 + w, y1: 20 + 14 });

      const centred = new Canvas(200, 60);
      centred.text(100, 30, "Period", { align: "center", valign: "middle", scale: 1 });
      const box = inkBox(centred)!;
      assert.ok(Math.abs((box.x0 + box.x1) / 2 - 100) <= 1 && Math.abs((box.y0 + box.y1) / 2 - 30) <= 1, JSON.stringify(box));
    });

    it("draws vertical text upwards from its anchor", () => {
      const c = new Canvas(60, 200);
      const w = c.text(20, 150, "DM 57", { vertical: true, scale: 2 });
      // Glyph tops face left; the run is w pixels long, going up from the anchor.
      assert.deepEqual(inkBox(c), { x0: 20, y0: 150 - w, x1: 20 + 14, y1: 150 });
    });
  });

  describe("ticks and limits", () => {
    it("puts linear ticks on 1, 2, 5 x 10^k steps without rounding noise", () => {
      assert.deepEqual(linearTicks(-7.75, 162.75, 10).major, [0, 20, 40, 60, 80, 100, 120, 140, 160]);
      assert.deepEqual(linearTicks(0, 1, 6).major, [0, 0.2, 0.4, 0.6, 0.8, 1]);
      assert.deepEqual(linearTicks(0.1, 0.35, 6).major, [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
      assert.deepEqual(linearTicks(-0.03, 0.07, 6).major, [-0.02, 0, 0.02, 0.04, 0.06]);
      assert.deepEqual(niceStep(0.15), 0.2);
      assert.deepEqual(niceStep(3), 5);
      assert.deepEqual(niceStep(10), 10);
    });

    it("labels decades on log axes, adding 2x and 5x when few decades are in view", () => {
      const wide = logTicks(0.001, 0.35, 20);
      assert.deepEqual(wide.major, [0.001, 0.01, 0.1]);
      assert.ok(wide.minor.includes(0.002) && wide.minor.includes(0.3) && !wide.minor.includes(0.4));
      assert.deepEqual(logTicks(0.0028, 0.11, 16).major, [0.005, 0.01, 0.02, 0.05, 0.1]);
      // Too many decades for the room: every other one.
      assert.deepEqual(logTicks(1e-6, 1e6, 7).major, [1e-6, 1e-4, 1e-2, 1, 1e2, 1e4, 1e6]);
      // Within one decade: linear steps.
      assert.deepEqual(logTicks(3, 4, 5).major, [3, 3.5, 4]);
    });

    it("formats tick labels briefly", () => {
      assert.equal(formatTick(0.001), "0.001");
      assert.equal(formatTick(0.1 + 0.2), "0.3");
      assert.equal(formatTick(-0), "0");
      assert.equal(formatTick(160), "160");
      assert.equal(formatTick(1e-5), "1e-5");
      assert.equal(formatTick(2e6), "2e+6");
    });

    it("derives limits from the data, ignoring what an axis cannot show", () => {
      assert.deepEqual(dataLimits([], false), [0, 1]);
      assert.deepEqual(dataLimits([], true), [1, 10]);
      assert.deepEqual(dataLimits([0, 100], false, 0.1), [-10, 110]);
      const [lo, hi] = dataLimits([0, -5, 1, 100, NaN], true, 0);
      assert.ok(Math.abs(lo - 1) < 1e-12 && Math.abs(hi - 100) < 1e-12);
      const [a, b] = dataLimits([57, 57], false, 0);
      assert.ok(a < 57 && b > 57);
    });

    it("bins histograms on round edges", () => {
      const h = histogram([5.1, 6, 9.9, 59.5, NaN], 20);
      assert.equal(h.edges[0], 5);
      assert.equal(h.edges[1]! - h.edges[0]!, 5);
      assert.equal(h.edges.length, h.counts.length + 1);
      assert.deepEqual([h.counts[0], h.counts[h.counts.length - 1]], [3, 1]);
      assert.equal(
        h.counts.reduce((a, b) => a + b, 0),
        4,
      );
      assert.deepEqual(histogram([], 10), { edges: [], counts: [] });
      assert.deepEqual(histogram([3, 3, 3]).counts, [3]);
    });
  });

  describe("Figure", () => {
    const rect = { left: 40, top: 20, width: 140, height: 100 };

    it("places markers by data value on linear and log axes, clipped to the plot area", () => {
      const fig = new Figure(220, 180);
      fig.addPanel(rect, { x: { min: 1, max: 100, log: true }, y: { min: 0, max: 10 } }).scatter([10, 1000], [5, 5], { color: [200, 0, 0], radius: 4 });
      const c = fig.render();
      // x = 10 is half way along a 1..100 log axis; y = 5 half way up.
      assert.deepEqual(pixel(c, 110, 70), [200, 0, 0]);
      // x = 1000 is off the axis: nothing is drawn right of the frame at that height.
      for (let x = 182; x < 220; x++) assert.deepEqual(pixel(c, x, 70), [255, 255, 255]);
    });

    it("draws frame, ticks, labels and titles outside the plot area", () => {
      const fig = new Figure(300, 220, { title: "T" });
      fig.addPanel({ left: 80, top: 40, width: 200, height: 100 }, { x: { title: "Period (s)", log: true }, y: { title: "DM" } });
      const c = fig.render();
      // Frame pixels are dark, the empty plot area is white apart from grid lines.
      assert.ok(pixel(c, 79, 90)[0] < 60 && pixel(c, 180, 140)[0] < 60);
      // Text below (tick labels, x title), left (y labels and title) and above (figure title).
      const dark = (x0: number, y0: number, x1: number, y1: number) => {
        let n = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pixel(c, x, y)[0] < 100) n++;
        return n;
      };
      assert.ok(dark(80, 150, 280, 200) > 100);
      assert.ok(dark(0, 40, 70, 140) > 100);
      assert.ok(dark(0, 0, 300, 36) > 20);
    });

    it("draws histogram bars from zero and legend entries", () => {
      const fig = new Figure(300, 220);
      const p = fig.addPanel({ left: 60, top: 20, width: 200, height: 120 }, { legend: "inside" });
      p.bars([0, 1, 2], [2, 4], { color: [0, 0, 200], label: "counts" });
      const c = fig.render();
      // The y axis runs 0..4.32 over 120 px: bar 1 (height 2) tops out at y = 84, bar 2 at y = 29.
      assert.deepEqual(pixel(c, 100, 130), [0, 0, 200]);
      assert.deepEqual(pixel(c, 100, 88), [0, 0, 200]);
      assert.notDeepEqual(pixel(c, 100, 80), [0, 0, 200]);
      assert.deepEqual(pixel(c, 230, 70), [0, 0, 200]);
      // The legend box sits in the top-right corner, over the bars, with dark text in it.
      let text = 0;
      for (let y = 28; y < 56; y++) for (let x = 170; x < 256; x++) if (pixel(c, x, y)[0] < 60) text++;
      assert.ok(text > 50, `legend text pixels: ${text}`);
      assert.throws(() => p.bars([0, 1], [1, 2], { color: [0, 0, 0] }), RangeError);
    });

    it("encodes an opaque PNG that decodes to the same pixels", () => {
      const fig = new Figure(120, 90, { title: "png" });
      fig.addPanel({ left: 30, top: 20, width: 80, height: 50 }).scatter([1, 2], [1, 2], {
        color: [
          [0, 128, 0],
          [0, 0, 255],
        ],
      });
      const canvas = fig.render();
      const png = PNG.sync.read(fig.toPng());
      assert.equal(png.width, 120);
      assert.equal(png.height, 90);
      for (let i = 0; i < 120 * 90; i++) {
        for (let k = 0; k < 3; k++) assert.equal(png.data[i * 4 + k], canvas.data[i * 4 + k]);
        assert.equal(png.data[i * 4 + 3], 255);
      }
    });
  });
});
