/**
 * An RGBA raster with the few drawing primitives plots need, encoded with pngjs.
 *
 * Public API:
 *   type RGB; interface Rect
 *   class Canvas: fillRect, fillCircle, strokeCircle, hline, vline, text, setClip, toPng
 *
 * Coordinates are image pixels, (0,0) top-left, y down. Pixel (i,j) covers
 * [i,i+1) x [j,j+1), so a circle centred at (10.5, 10.5) is centred on pixel 10.
 * Everything is alpha-blended onto an opaque background, so the image stays opaque
 * and overlapping translucent markers show where candidates pile up. Circles are
 * anti-aliased by the fraction of a pixel they cover (approximated from the
 * distance of the pixel centre to the edge), which is what keeps small markers
 * round; rectangles and text are drawn on whole pixels and need none.
 */

import { PNG } from "pngjs";
import { ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from "./font";

export type RGB = readonly [number, number, number];

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface TextOptions {
  /** Font pixels are drawn as scale x scale blocks (default 2). */
  scale?: number;
  color?: RGB;
  /** Where (x, y) is on the text: horizontally ... */
  align?: "left" | "center" | "right";
  /** ... and vertically (top of the capitals, their middle, or the baseline row's bottom). */
  valign?: "top" | "middle" | "bottom";
  /** Draw reading upwards (rotated 90 degrees anticlockwise), as y-axis titles are. */
  vertical?: boolean;
}

export class Canvas {
  readonly data: Buffer;
  private clip: { x0: number; y0: number; x1: number; y1: number };

  constructor(
    readonly width: number,
    readonly height: number,
    background: RGB = [255, 255, 255],
  ) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new RangeError(`Canvas: bad size ${width}x${height}`);
    }
    this.data = Buffer.alloc(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      this.data[i * 4] = background[0];
      this.data[i * 4 + 1] = background[1];
      this.data[i * 4 + 2] = background[2];
      this.data[i * 4 + 3] = 255;
    }
    this.clip = { x0: 0, y0: 0, x1: width, y1: height };
  }

  /** Restrict drawing to `rect` (markers must not spill out of a plot area); null for the whole image. */
  setClip(rect: Rect | null): void {
    const r = rect ?? { left: 0, top: 0, width: this.width, height: this.height };
    this.clip = {
      x0: Math.max(0, Math.floor(r.left)),
      y0: Math.max(0, Math.floor(r.top)),
      x1: Math.min(this.width, Math.ceil(r.left + r.width)),
      y1: Math.min(this.height, Math.ceil(r.top + r.height)),
    };
  }

  /** Blend colour `c` with opacity `alpha` (0-1) into pixel (x, y), if inside the clip. */
  blend(x: number, y: number, c: RGB, alpha = 1): void {
    if (x < this.clip.x0 || x >= this.clip.x1 || y < this.clip.y0 || y >= this.clip.y1 || alpha <= 0) return;
    const i = (y * this.width + x) * 4;
    const a = Math.min(1, alpha);
    const d = this.data;
    d[i] = Math.round(d[i]! + (c[0] - d[i]!) * a);
    d[i + 1] = Math.round(d[i + 1]! + (c[1] - d[i + 1]!) * a);
    d[i + 2] = Math.round(d[i + 2]! + (c[2] - d[i + 2]!) * a);
  }

  /** Fill the pixels whose centres lie in [x0,x1) x [y0,y1). */
  fillRect(x0: number, y0: number, x1: number, y1: number, c: RGB, alpha = 1): void {
    const xa = Math.round(Math.min(x0, x1));
    const xb = Math.round(Math.max(x0, x1));
    const ya = Math.round(Math.min(y0, y1));
    const yb = Math.round(Math.max(y0, y1));
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) this.blend(x, y, c, alpha);
  }

  /** A horizontal line `thickness` pixels thick from x0 to x1 at pixel row y. */
  hline(x0: number, x1: number, y: number, c: RGB, thickness = 1): void {
    this.fillRect(x0, y, x1 + 1, y + thickness, c);
  }

  vline(x: number, y0: number, y1: number, c: RGB, thickness = 1): void {
    this.fillRect(x, y0, x + thickness, y1 + 1, c);
  }

  /** An anti-aliased filled disc. */
  fillCircle(cx: number, cy: number, r: number, c: RGB, alpha = 1): void {
    this.shape(cx, cy, r + 1, (d) => r + 0.5 - d, c, alpha);
  }

  /** An anti-aliased ring of the given line width centred on radius r. */
  strokeCircle(cx: number, cy: number, r: number, lineWidth: number, c: RGB, alpha = 1): void {
    this.shape(cx, cy, r + lineWidth / 2 + 1, (d) => lineWidth / 2 + 0.5 - Math.abs(d - r), c, alpha);
  }

  /** Blend every pixel near (cx, cy) by coverage(distance of its centre), clamped to [0, 1]. */
  private shape(cx: number, cy: number, reach: number, coverage: (d: number) => number, c: RGB, alpha: number): void {
    for (let y = Math.floor(cy - reach); y <= Math.ceil(cy + reach); y++) {
      for (let x = Math.floor(cx - reach); x <= Math.ceil(cx + reach); x++) {
        const cov = Math.min(1, coverage(Math.hypot(x + 0.5 - cx, y + 0.5 - cy)));
        if (cov > 0) this.blend(x, y, c, alpha * cov);
      }
    }
  }

  /** Draw one line of text with the embedded font; returns its width in pixels. */
  text(x: number, y: number, text: string, o: TextOptions = {}): number {
    const scale = o.scale ?? 2;
    const color = o.color ?? [0, 0, 0];
    const w = textWidth(text, scale);
    // Offsets along the text (u) and across it (v, downwards for horizontal text).
    const u0 = o.align === "center" ? -w / 2 : o.align === "right" ? -w : 0;
    const capHeight = 7 * scale;
    const v0 = o.valign === "middle" ? -capHeight / 2 : o.valign === "bottom" ? -capHeight : 0;
    const startU = Math.round(u0);
    const startV = Math.round(v0);
    for (let k = 0; k < text.length; k++) {
      const cols = glyph(text[k]!);
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        for (let row = 0; row < GLYPH_HEIGHT; row++) {
          if (((cols[col]! >> row) & 1) === 0) continue;
          const u = startU + (k * ADVANCE + col) * scale;
          const v = startV + row * scale;
          // Vertical text runs upwards from (x, y): u goes up the image, v to the right.
          if (o.vertical) this.fillRect(x + v, y - u - scale, x + v + scale, y - u, color);
          else this.fillRect(x + u, y + v, x + u + scale, y + v + scale, color);
        }
      }
    }
    return w;
  }

  toPng(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    this.data.copy(png.data);
    // The image is opaque: store RGB (colour type 2) rather than RGBA. The Paeth filter
    // on every row compresses plots as well as pngjs's default per-row trial of all
    // five filters, in about half the time.
    return PNG.sync.write(png, { colorType: 2, deflateLevel: 9, filterType: 4 });
  }
}
