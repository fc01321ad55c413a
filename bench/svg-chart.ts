/**
 * A small horizontal bar chart as standalone SVG, for `BENCHMARKS.md` (no chart library): one bar
 * per row, an optional min–max whisker, the value and a note printed beside the bar, bars coloured
 * by group, and a legend.
 */

export interface BarRow {
  label: string;
  group: string;
  value: number;
  min?: number;
  max?: number;
  /** Printed after the value, e.g. "p50 4.1 ms · p99 9.0 ms". */
  note?: string;
}

export interface BarChartOptions {
  title: string;
  subtitle?: string;
  unit: string;
  colors?: Record<string, string>;
}

const DEFAULT_COLORS = ['#2f6fb3', '#d9822b', '#5a9e4b', '#9b59b6', '#c0392b', '#7f8c8d'];

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A "nice" axis: a step of 1, 2, 2.5 or 5 times a power of ten, about five of them up to `value`. */
function niceAxis(value: number): { max: number; step: number } {
  if (!(value > 0)) return { max: 1, step: 0.2 };
  const raw = value / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  return { max: Math.ceil(value / step) * step, step };
}

const formatNumber = (n: number) => Math.round(n).toLocaleString('en-US');

export function barChartSvg(rows: readonly BarRow[], options: BarChartOptions): string {
  const groups = [...new Set(rows.map((r) => r.group))];
  const color = (group: string) => options.colors?.[group] ?? DEFAULT_COLORS[groups.indexOf(group) % DEFAULT_COLORS.length];
  const labelWidth = 250;
  const plotWidth = 520;
  const noteWidth = 330;
  const rowHeight = 26;
  const top = options.subtitle ? 70 : 52;
  const legendHeight = 34;
  const axisHeight = 26;
  const width = labelWidth + plotWidth + noteWidth + 20;
  const height = top + rows.length * rowHeight + axisHeight + legendHeight;
  const axis = niceAxis(Math.max(...rows.map((r) => Math.max(r.value, r.max ?? 0)), 0));
  const maxValue = axis.max;
  const x = (v: number) => labelWidth + (Math.max(0, v) / maxValue) * plotWidth;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle) {
    parts.push(`<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">${escapeXml(options.subtitle)}</text>`);
  }
  // Grid lines and axis labels.
  const ticks = Math.round(axis.max / axis.step);
  const plotBottom = top + rows.length * rowHeight;
  for (let i = 0; i <= ticks; i++) {
    const value = axis.step * i;
    const gx = x(value).toFixed(1);
    parts.push(
      `<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${plotBottom}" stroke="#e3e3e3"/>`,
      `<text x="${gx}" y="${plotBottom + 16}" text-anchor="middle" fill="#555">${formatNumber(value)}</text>`,
    );
  }
  parts.push(
    `<text x="${labelWidth + plotWidth / 2}" y="${plotBottom + axisHeight + 4}" text-anchor="middle" fill="#333">${escapeXml(options.unit)}</text>`,
  );
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const barY = y + 4;
    const barHeight = rowHeight - 8;
    const fill = color(row.group);
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + rowHeight / 2 + 4}" text-anchor="end">${escapeXml(row.label)}</text>`,
      `<rect x="${labelWidth}" y="${barY}" width="${(x(row.value) - labelWidth).toFixed(1)}" height="${barHeight}" fill="${fill}" rx="2"><title>${escapeXml(`${row.label}: ${formatNumber(row.value)} ${options.unit}`)}</title></rect>`,
    );
    if (row.min !== undefined && row.max !== undefined && row.max > row.min) {
      const mid = barY + barHeight / 2;
      const x1 = x(row.min).toFixed(1);
      const x2 = x(row.max).toFixed(1);
      parts.push(
        `<line x1="${x1}" y1="${mid}" x2="${x2}" y2="${mid}" stroke="#222" stroke-width="1.2"/>`,
        `<line x1="${x1}" y1="${mid - 4}" x2="${x1}" y2="${mid + 4}" stroke="#222" stroke-width="1.2"/>`,
        `<line x1="${x2}" y1="${mid - 4}" x2="${x2}" y2="${mid + 4}" stroke="#222" stroke-width="1.2"/>`,
      );
    }
    const textX = Math.max(x(row.value), x(row.max ?? 0)) + 6;
    parts.push(
      `<text x="${textX.toFixed(1)}" y="${y + rowHeight / 2 + 4}"><tspan font-weight="bold">${formatNumber(row.value)}</tspan>${
        row.note ? `<tspan fill="#555" dx="10">${escapeXml(row.note)}</tspan>` : ''
      }</text>`,
    );
  });
  // Legend.
  let lx = labelWidth;
  const ly = height - 14;
  for (const group of groups) {
    parts.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color(group)}" rx="2"/>`,
      `<text x="${lx + 17}" y="${ly}">${escapeXml(group)}</text>`,
    );
    lx += 24 + group.length * 7;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
