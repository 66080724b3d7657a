// A PNG line chart of latency against offered load, with no dependency: a small RGB raster,
// a 3x5 pixel font, and a PNG writer on node:zlib (deflate) with its own CRC-32.
import { deflateSync } from 'node:zlib';

export interface Series {
  label: string;
  color: [number, number, number];
  /** Dashed lines for secondary series (p50 beside p99). */
  dashed?: boolean;
  points: Array<[x: number, y: number]>;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

// Rows of 3 pixels, top to bottom.
const FONT: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001010010010',
  '8': '111101111101111',
  '9': '111101111001111',
  A: '010101111101101',
  B: '110101110101110',
  C: '011100100100011',
  D: '110101101101110',
  E: '111100110100111',
  F: '111100110100100',
  G: '011100101101011',
  H: '101101111101101',
  I: '111010010010111',
  J: '001001001101010',
  K: '101101110101101',
  L: '100100100100111',
  M: '101111111101101',
  N: '110101101101101',
  O: '010101101101010',
  P: '110101110100100',
  Q: '010101101110011',
  R: '110101110101101',
  S: '011100010001110',
  T: '111010010010010',
  U: '101101101101111',
  V: '101101101101010',
  W: '101101111111101',
  X: '101101010101101',
  Y: '101101010010010',
  Z: '111001010100111',
  '.': '000000000000010',
  ',': '000000000010100',
  '-': '000000111000000',
  '/': '001001010100100',
  '(': '010100100100010',
  ')': '010001001001010',
  ':': '000010000010000',
  '>': '100010001010100',
  '=': '000111000111000',
  '%': '101001010100101',
  ' ': '000000000000000',
};

class Raster {
  readonly px: Uint8Array;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.px = new Uint8Array(w * h * 3).fill(255);
  }

  set(x: number, y: number, c: readonly number[]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const i = (y * this.w + x) * 3;
    this.px[i] = c[0]!;
    this.px[i + 1] = c[1]!;
    this.px[i + 2] = c[2]!;
  }

  rect(x: number, y: number, w: number, h: number, c: readonly number[]): void {
    for (let dy = 0; dy < h; dy++) for (let dx = 0; dx < w; dx++) this.set(x + dx, y + dy, c);
  }

  line(x0: number, y0: number, x1: number, y1: number, c: readonly number[], width = 1, dash = 0): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let i = 0; i <= steps; i++) {
      if (dash > 0 && Math.floor(i / dash) % 2 === 1) continue;
      const x = x0 + ((x1 - x0) * i) / steps;
      const y = y0 + ((y1 - y0) * i) / steps;
      this.rect(x - Math.floor(width / 2), y - Math.floor(width / 2), width, width, c);
    }
  }

  text(s: string, x: number, y: number, c: readonly number[], scale = 2): number {
    for (const ch of s.toUpperCase()) {
      const g = FONT[ch] ?? FONT[' ']!;
      for (let r = 0; r < 5; r++)
        for (let col = 0; col < 3; col++)
          if (g[r * 3 + col] === '1') this.rect(x + col * scale, y + r * scale, scale, scale, c);
      x += 4 * scale;
    }
    return x;
  }

  /** Width of `s` in pixels at `scale`. */
  static width(s: string, scale = 2): number {
    return s.length * 4 * scale;
  }
}

let crcTable: Uint32Array | undefined;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePng(r: { w: number; h: number; px: Uint8Array }): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(r.w, 0);
  ihdr.writeUInt32BE(r.h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc((r.w * 3 + 1) * r.h);
  for (let y = 0; y < r.h; y++) {
    rows[y * (r.w * 3 + 1)] = 0; // filter: none
    Buffer.from(r.px.buffer, r.px.byteOffset + y * r.w * 3, r.w * 3).copy(rows, y * (r.w * 3 + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** Log-scale ticks 1, 2, 5, 10, ... covering [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  return out;
}

/** A line chart, both axes logarithmic. */
export function renderChart(chart: Chart, w = 900, h = 560): Buffer {
  const r = new Raster(w, h);
  const left = 90;
  const right = w - 30;
  const top = 60;
  const bottom = h - 130;
  const all = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && y > 0);
  const xLo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...all.map(([x]) => x)))));
  const xHi = 10 ** Math.ceil(Math.log10(Math.max(10, ...all.map(([x]) => x))));
  const yLo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...all.map(([, y]) => y), 1))));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(10, ...all.map(([, y]) => y))));
  const sx = (x: number): number =>
    left +
    ((right - left) * (Math.log10(Math.max(x, xLo)) - Math.log10(xLo))) / (Math.log10(xHi) - Math.log10(xLo));
  const sy = (y: number): number =>
    bottom -
    ((bottom - top) * (Math.log10(Math.max(y, yLo)) - Math.log10(yLo))) / (Math.log10(yHi) - Math.log10(yLo));
  const grey = [215, 215, 215];
  const ink = [40, 40, 40];
  for (const v of logTicks(yLo, yHi)) {
    r.line(left, sy(v), right, sy(v), grey);
    const label = v >= 1 ? String(v) : v.toFixed(1);
    r.text(label, left - 10 - Raster.width(label), sy(v) - 5, ink);
  }
  for (const x of logTicks(xLo, xHi)) {
    r.line(sx(x), top, sx(x), bottom, grey);
    const label = String(x);
    r.text(label, sx(x) - Raster.width(label) / 2, bottom + 10, ink);
  }
  r.line(left, top, left, bottom, ink, 2);
  r.line(left, bottom, right, bottom, ink, 2);
  r.text(chart.title, left, 20, ink, 3);
  r.text(chart.xLabel, (left + right) / 2 - Raster.width(chart.xLabel) / 2, bottom + 32, ink);
  r.text(chart.yLabel, 10, top - 24, ink);
  let legendX = left;
  let legendY = h - 70;
  for (const s of chart.series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && y > 0).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < pts.length; i++)
      r.line(
        sx(pts[i - 1]![0]),
        sy(pts[i - 1]![1]),
        sx(pts[i]![0]),
        sy(pts[i]![1]),
        s.color,
        3,
        s.dashed ? 6 : 0,
      );
    for (const [x, y] of pts) r.rect(sx(x) - 4, sy(y) - 4, 9, 9, s.color);
    if (legendX + 40 + Raster.width(s.label) > right) {
      legendX = left;
      legendY += 24;
    }
    r.line(legendX, legendY + 5, legendX + 30, legendY + 5, s.color, 3, s.dashed ? 6 : 0);
    legendX = r.text(s.label, legendX + 40, legendY, ink) + 30;
  }
  return encodePng(r);
}
