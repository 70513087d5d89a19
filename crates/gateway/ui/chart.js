// Stacked bar charts as inline SVG, drawn from plain data:
// stackedBars({ buckets: [ms…], series: [{ name, values: [n…] }], bucketMs, title, unit }).

import { h, compact } from './dom.js';

export const PALETTE = [
  '#2f6fed', '#e8793a', '#2ba56b', '#c44cc9', '#d6b31f', '#1fb3c4', '#e0445b', '#7a5cf0', '#7f8c8d', '#8fbf3f',
];

/** A nice axis maximum and tick step for `max`. */
export function scale(max) {
  if (!(max > 0)) return { top: 1, step: 1 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) || power * 10;
  return { top: Math.ceil(max / step) * step, step };
}

function label(ms, bucketMs) {
  const d = new Date(ms);
  if (bucketMs >= 86400000) return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function stackedBars({ buckets, series, bucketMs, title, unit }) {
  const W = 720, H = 230, left = 52, right = 12, top = 14, bottom = 34;
  const plotW = W - left - right, plotH = H - top - bottom;
  const totals = buckets.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const { top: max, step } = scale(Math.max(0, ...totals));
  const y = (v) => top + plotH - (v / max) * plotH;
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(2, Math.min(40, slot * 0.7));

  const grid = [];
  for (let v = 0; v <= max + step / 2; v += step) {
    grid.push(h('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), class: 'grid' }));
    grid.push(h('text', { x: left - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, compact(v)));
  }
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  const xLabels = buckets.map((ms, i) => (i % every === 0
    ? h('text', { x: left + slot * i + slot / 2, y: H - bottom + 16, class: 'tick', 'text-anchor': 'middle' }, label(ms, bucketMs))
    : null));

  const bars = [];
  buckets.forEach((ms, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i] || 0;
      if (v <= 0) return;
      const y0 = y(base), y1 = y(base + v);
      bars.push(h('rect', {
        x: left + slot * i + (slot - barW) / 2, y: y1, width: barW, height: Math.max(1, y0 - y1),
        fill: s.color || PALETTE[k % PALETTE.length], class: 'seg',
      }, h('title', {}, `${label(ms, bucketMs)} · ${s.name}: ${v.toLocaleString()} ${unit}`)));
      base += v;
    });
  });

  const svg = h('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title, preserveAspectRatio: 'xMidYMid meet',
  },
  h('title', {}, title),
  grid,
  h('line', { x1: left, x2: W - right, y1: y(0), y2: y(0), class: 'axis' }),
  bars,
  xLabels);

  const legend = h('ul', { class: 'legend' }, series.map((s, k) => {
    const swatch = h('span', { class: 'swatch' });
    swatch.style.background = s.color || PALETTE[k % PALETTE.length];
    const total = s.values.reduce((a, b) => a + (b || 0), 0);
    return h('li', {}, swatch, `${s.name} `, h('span', { class: 'muted' }, compact(total)));
  }));
  return h('figure', { class: 'chart-figure' }, h('figcaption', {}, title), svg, legend);
}
