/**
 * Figures made of panels: scatter plots and histograms with labelled axes.
 *
 * Public API:
 *   class Figure(width, height, { title?, background? }): addPanel(rect, options), render(), toPng()
 *   class Panel: scatter(x, y, options), bars(edges, heights, options), legendEntry(entry)
 *   interface AxisOptions, PanelOptions, ScatterOptions, BarOptions, LegendEntry
 *
 * A panel's rect is its plot area in image pixels; tick labels, axis titles and the
 * panel title are drawn outside it, so the caller leaves margins for them (about
 * 50 px below, 70 px left, 25 px above). Drawing is deferred to render(), so axis
 * limits not fixed in the options can follow all the data added. Markers and bars
 * are clipped to the plot area; the frame and ticks are drawn last so markers never
 * hide them, and ticks point outwards for the same reason.
 */

import { type Scale, type Ticks, dataLimits, formatTick, linearTicks, logTicks, toFraction } from "./axes";
import { type RGB, type Rect, Canvas } from "./canvas";
import { LINE_HEIGHT, textWidth } from "./font";

export interface AxisOptions {
  title?: string;
  /** log10 axis (values <= 0 are not drawn). */
  log?: boolean;
  /** Fixed limits; by default the data's range plus 5% (bars start at 0). */
  min?: number;
  max?: number;
}

export interface PanelOptions {
  title?: string;
  x?: AxisOptions;
  y?: AxisOptions;
  /**
   * "inside": a box in the plot area's top-right corner (default); "right": a column
   * beside the plot area; "below": rows under the x-axis title.
   */
  legend?: "inside" | "right" | "below";
  /** Legend columns for "below" (default 3). */
  legendColumns?: number;
}

export interface ScatterOptions {
  /** One colour, or one per point. */
  color: RGB | readonly RGB[];
  /** Marker radius in pixels, one or one per point (default 3). */
  radius?: number | readonly number[];
  /** Opacity 0-1 (default 1); below 1, piled-up markers look darker. */
  alpha?: number;
  /** Outline colour drawn round each disc (none by default). */
  edge?: RGB;
  /** Draw rings of this line width instead of discs. */
  ring?: number;
  /** Add a legend entry with this label (drawn with the first point's colour and a mid-size marker). */
  label?: string;
}

export interface BarOptions {
  color: RGB;
  alpha?: number;
  label?: string;
}

export interface LegendEntry {
  label: string;
  color: RGB;
  radius?: number;
  ring?: number;
  edge?: RGB;
  alpha?: number;
}

const INK: RGB = [25, 25, 25];
const GRID: RGB = [228, 228, 228];
const BOX: RGB = [170, 170, 170];
const TEXT_SCALE = 2;
const TEXT_H = 7 * TEXT_SCALE;
const TICK = 6;
const MINOR_TICK = 3;
const GAP = 6;

interface ScatterSeries {
  kind: "scatter";
  x: readonly number[];
  y: readonly number[];
  o: ScatterOptions;
}

interface BarSeries {
  kind: "bars";
  edges: readonly number[];
  heights: readonly number[];
  o: BarOptions;
}

export class Panel {
  private readonly series: Array<ScatterSeries | BarSeries> = [];
  private readonly legend: LegendEntry[] = [];

  constructor(
    readonly rect: Rect,
    readonly options: PanelOptions = {},
  ) {}

  scatter(x: readonly number[], y: readonly number[], o: ScatterOptions): this {
    if (x.length !== y.length) throw new RangeError(`scatter: ${x.length} x values but ${y.length} y values`);
    this.series.push({ kind: "scatter", x, y, o });
    if (o.label !== undefined) {
      const color = isRgb(o.color) ? o.color : (o.color[0] ?? INK);
      const radius = typeof o.radius === "number" ? o.radius : 4;
      this.legend.push({ label: o.label, color, radius, ring: o.ring, edge: o.edge, alpha: o.alpha });
    }
    return this;
  }

  /** A histogram: bar k spans edges[k]..edges[k+1] with height heights[k]. */
  bars(edges: readonly number[], heights: readonly number[], o: BarOptions): this {
    if (edges.length !== heights.length + 1) throw new RangeError("bars: need one more edge than heights");
    this.series.push({ kind: "bars", edges, heights, o });
    if (o.label !== undefined) this.legend.push({ label: o.label, color: o.color, alpha: o.alpha });
    return this;
  }

  legendEntry(entry: LegendEntry): this {
    this.legend.push(entry);
    return this;
  }

  render(canvas: Canvas): void {
    const { rect } = this;
    const xs = this.scale("x");
    const ys = this.scale("y");
    const px = (v: number) => rect.left + toFraction(xs, v) * rect.width;
    const py = (v: number) => rect.top + (1 - toFraction(ys, v)) * rect.height;
    const xt = fitTicks(xs, rect.width, (a, b) => (textWidth(a, TEXT_SCALE) + textWidth(b, TEXT_SCALE)) / 2 + 12);
    const yt = fitTicks(ys, rect.height, () => TEXT_H + 10);
    const right = rect.left + rect.width;
    const bottom = rect.top + rect.height;

    // Grid first, so that everything else lies on top of it.
    for (const v of xt.major) canvas.vline(Math.round(px(v)), rect.top, bottom, GRID);
    for (const v of yt.major) canvas.hline(rect.left, right, Math.round(py(v)), GRID);

    canvas.setClip(rect);
    for (const s of this.series) {
      if (s.kind === "bars") {
        const base = py(ys.log ? ys.min : Math.max(ys.min, 0));
        s.heights.forEach((h, k) => {
          if (!(h > 0)) return;
          canvas.fillRect(px(s.edges[k]!) + 1, py(h), px(s.edges[k + 1]!), base, s.o.color, s.o.alpha ?? 1);
        });
        continue;
      }
      const { o } = s;
      for (let i = 0; i < s.x.length; i++) {
        const x = s.x[i]!;
        const y = s.y[i]!;
        if (!Number.isFinite(x) || !Number.isFinite(y) || (xs.log && x <= 0) || (ys.log && y <= 0)) continue;
        const color = isRgb(o.color) ? o.color : (o.color[i] ?? INK);
        const r = typeof o.radius === "number" ? o.radius : (o.radius?.[i] ?? 3);
        drawMarker(canvas, px(x), py(y), { label: "", color, radius: r, ring: o.ring, edge: o.edge, alpha: o.alpha });
      }
    }
    canvas.setClip(null);

    // Frame, ticks and tick labels.
    canvas.hline(rect.left - 1, right, rect.top - 1, INK);
    canvas.hline(rect.left - 1, right, bottom, INK);
    canvas.vline(rect.left - 1, rect.top - 1, bottom, INK);
    canvas.vline(right, rect.top - 1, bottom, INK);
    for (const v of xt.minor) canvas.vline(Math.round(px(v)), bottom, bottom + MINOR_TICK, INK);
    for (const v of yt.minor) canvas.hline(rect.left - 1 - MINOR_TICK, rect.left - 1, Math.round(py(v)), INK);
    for (const v of xt.major) {
      const x = Math.round(px(v));
      canvas.vline(x, bottom, bottom + TICK, INK);
      canvas.text(x + 0.5, bottom + TICK + GAP, formatTick(v), { align: "center", color: INK });
    }
    let labelWidth = 0;
    for (const v of yt.major) {
      const y = Math.round(py(v));
      canvas.hline(rect.left - 1 - TICK, rect.left - 1, y, INK);
      const w = canvas.text(rect.left - 1 - TICK - GAP, y + 0.5, formatTick(v), { align: "right", valign: "middle", color: INK });
      labelWidth = Math.max(labelWidth, w);
    }

    const o = this.options;
    const xTitleTop = bottom + TICK + GAP + TEXT_H + 2 * GAP;
    if (o.x?.title) canvas.text(rect.left + rect.width / 2, xTitleTop, o.x.title, { align: "center", color: INK });
    if (o.y?.title) {
      const x = rect.left - 1 - TICK - GAP - labelWidth - 2 * GAP - TEXT_H;
      canvas.text(x, rect.top + rect.height / 2, o.y.title, { vertical: true, align: "center", color: INK });
    }
    if (o.title) canvas.text(rect.left + rect.width / 2, rect.top - 1 - 2 * GAP, o.title, { align: "center", valign: "bottom", color: INK });
    if (this.legend.length > 0) this.drawLegend(canvas, xTitleTop + TEXT_H + 3 * GAP);
  }

  /** The axis's limits: fixed by the options, or from the data. */
  private scale(axis: "x" | "y"): Scale {
    const ao = (axis === "x" ? this.options.x : this.options.y) ?? {};
    const log = ao.log ?? false;
    const scatterValues: Array<readonly number[]> = [];
    const barValues: Array<readonly number[]> = [];
    for (const s of this.series) {
      if (s.kind === "scatter") scatterValues.push(axis === "x" ? s.x : s.y);
      else barValues.push(axis === "x" ? s.edges : s.heights);
    }
    const all = function* (lists: Array<readonly number[]>) {
      for (const list of lists) yield* list;
    };
    let [min, max] = dataLimits(all([...scatterValues, ...barValues]), log);
    if (barValues.length > 0 && axis === "x") {
      // Histogram bins are shown exactly, without padding (unless scatter data reaches further).
      const [bmin, bmax] = dataLimits(all(barValues), log, 0);
      [min, max] = scatterValues.length > 0 ? [Math.min(min, bmin), Math.max(max, bmax)] : [bmin, bmax];
    }
    if (barValues.length > 0 && axis === "y" && !log) {
      // Bars grow from zero: pad above only.
      let top = 0;
      for (const v of all([...scatterValues, ...barValues])) if (Number.isFinite(v)) top = Math.max(top, v);
      [min, max] = [0, top > 0 ? top * 1.08 : 1];
    }
    min = ao.min ?? min;
    max = ao.max ?? max;
    if (!(max > min) || (log && !(min > 0))) throw new RangeError(`panel: bad ${axis} limits ${min}..${max}`);
    return { log, min, max };
  }

  private drawLegend(canvas: Canvas, belowTop: number): void {
    const rowH = (e: LegendEntry) => Math.max(LINE_HEIGHT * TEXT_SCALE, 2 * (e.radius ?? 4) + 6);
    const markerW = Math.max(...this.legend.map((e) => 2 * (e.radius ?? 4) + (e.ring ?? 0))) + 2 * GAP;
    const labelW = Math.max(...this.legend.map((e) => textWidth(e.label, TEXT_SCALE)));
    const colW = markerW + labelW + 3 * GAP;
    const { rect } = this;
    const where = this.options.legend ?? "inside";

    if (where === "below") {
      // Rows of `columns` entries under the x-axis title, centred on the panel.
      const columns = Math.min(this.options.legendColumns ?? 3, this.legend.length);
      const left = rect.left + (rect.width - columns * colW) / 2;
      let top = belowTop;
      for (let first = 0; first < this.legend.length; first += columns) {
        const entries = this.legend.slice(first, first + columns);
        const h = Math.max(...entries.map(rowH));
        entries.forEach((e, c) => this.legendRow(canvas, e, left + c * colW, top + h / 2, markerW));
        top += h;
      }
      return;
    }
    // One column: in a box in the plot area's top-right corner, or beside the panel.
    const height = this.legend.reduce((h, e) => h + rowH(e), 0) + 2 * GAP;
    const left = where === "inside" ? rect.left + rect.width - colW - GAP : rect.left + rect.width + 3 * GAP;
    const top = rect.top + (where === "inside" ? GAP : 0);
    if (where === "inside") {
      canvas.fillRect(left, top, left + colW, top + height, [255, 255, 255], 0.85);
      canvas.hline(left, left + colW, top, BOX);
      canvas.hline(left, left + colW, top + height, BOX);
      canvas.vline(left, top, top + height, BOX);
      canvas.vline(left + colW, top, top + height, BOX);
    }
    let y = top + GAP;
    for (const e of this.legend) {
      this.legendRow(canvas, e, left + GAP, y + rowH(e) / 2, markerW);
      y += rowH(e);
    }
  }

  private legendRow(canvas: Canvas, e: LegendEntry, left: number, midY: number, markerW: number): void {
    drawMarker(canvas, left + markerW / 2, midY, e);
    canvas.text(left + markerW + GAP, Math.round(midY) + 0.5, e.label, { valign: "middle", color: INK });
  }
}

export class Figure {
  private readonly panels: Panel[] = [];

  constructor(
    readonly width = 1000,
    readonly height = 800,
    readonly options: { title?: string; background?: RGB } = {},
  ) {}

  addPanel(rect: Rect, options: PanelOptions = {}): Panel {
    const panel = new Panel(rect, options);
    this.panels.push(panel);
    return panel;
  }

  render(): Canvas {
    const canvas = new Canvas(this.width, this.height, this.options.background ?? [255, 255, 255]);
    const title = this.options.title;
    if (title) {
      // The largest text size at which the title fits: PALFA beam names are long.
      const scale = [3, 2, 1].find((s) => textWidth(title, s) <= this.width - 20) ?? 1;
      canvas.text(this.width / 2, 12, title, { scale, align: "center", color: INK });
    }
    for (const p of this.panels) p.render(canvas);
    return canvas;
  }

  toPng(): Buffer {
    return this.render().toPng();
  }
}

function isRgb(c: RGB | readonly RGB[]): c is RGB {
  return typeof c[0] === "number";
}

function drawMarker(canvas: Canvas, x: number, y: number, e: LegendEntry): void {
  const r = e.radius ?? 4;
  const alpha = e.alpha ?? 1;
  if (e.ring) {
    canvas.strokeCircle(x, y, r, e.ring, e.color, alpha);
    return;
  }
  canvas.fillCircle(x, y, r, e.color, alpha);
  if (e.edge) canvas.strokeCircle(x, y, r, 1, e.edge, alpha);
}

/**
 * The densest ticks whose labels do not collide: `minGap(a, b)` is the pixel
 * distance two neighbouring labels a and b need.
 */
function fitTicks(s: Scale, length: number, minGap: (a: string, b: string) => number): Ticks {
  for (let n = Math.max(4, Math.floor(length / 50)); ; n--) {
    const t = s.log ? logTicks(s.min, s.max, n) : linearTicks(s.min, s.max, n);
    const pos = t.major.map((v) => toFraction(s, v) * length);
    const fits = pos.every((p, i) => i === 0 || p - pos[i - 1]! >= minGap(formatTick(t.major[i - 1]!), formatTick(t.major[i]!)));
    if (fits || n <= 2) return t;
  }
}
