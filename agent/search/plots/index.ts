/**
 * A small raster plotting module: figures of scatter and histogram panels with
 * linear or log10 axes, drawn with an embedded bitmap font and encoded as PNG by
 * pngjs (no native modules, no system fonts). Used for the sifting diagnostics.
 *
 *   Figure, Panel          layout, axes, ticks, titles, legends (figure.ts)
 *   Canvas                 RGBA raster, anti-aliased markers, text (canvas.ts)
 *   ticks and limits       dataLimits, linearTicks, logTicks, formatTick (axes.ts)
 *   font                   5x7 glyphs for printable ASCII (font.ts)
 */

export {
  type AxisOptions,
  type BarOptions,
  type LegendEntry,
  type PanelOptions,
  type ScatterOptions,
  Figure,
  Panel,
} from "./figure";
export { type RGB, type Rect, type TextOptions, Canvas } from "./canvas";
export { type Scale, type Ticks, dataLimits, formatTick, histogram, linearTicks, logTicks, niceStep, toFraction } from "./axes";
export { textWidth } from "./font";
