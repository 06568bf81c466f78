import { busiestKnown, MINUTE_MS, type MinuteBar } from './minute-histogram.js';

const SVG = 'http://www.w3.org/2000/svg';
/** Until the chart has a size (not yet laid out). */
const DEFAULT_WIDTH = 640;
const HEIGHT = 140;
const AXIS = 18; // room under the bars for the time labels
const LABEL = 46; // room left of the bars for the scale

function svg<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * Draws the bars of blobs per minute into the page's `<svg>`, and says the same in words for screen
 * readers. The drawing is as wide as the element (its viewBox follows it), so that text is never
 * stretched or squashed; the scale is the busiest known minute, the one the caption names.
 */
export function drawChart(target: SVGSVGElement, caption: HTMLElement, bars: readonly MinuteBar[]): void {
  const width = Math.round(target.getBoundingClientRect().width) || DEFAULT_WIDTH;
  target.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
  const top = busiestKnown(bars);
  const peak = Math.max(1, top?.count ?? 0);
  const plotHeight = HEIGHT - AXIS - 4;
  const step = (width - LABEL) / bars.length;
  const parts: SVGElement[] = [
    svg('line', { class: 'axis', x1: LABEL, y1: HEIGHT - AXIS, x2: width, y2: HEIGHT - AXIS }),
    svg('text', { class: 'scale scale-max', x: LABEL - 4, y: 12, 'text-anchor': 'end' }, `${peak}/min`),
    svg('text', { class: 'scale', x: LABEL - 4, y: HEIGHT - AXIS, 'text-anchor': 'end' }, '0'),
  ];
  bars.forEach((bar, i) => {
    const x = LABEL + i * step;
    if (!bar.known) {
      parts.push(svg('rect', { class: 'unknown', x: x + 0.5, y: 4, width: step - 1, height: plotHeight }));
      return;
    }
    const height = (bar.count / peak) * plotHeight;
    const rect = svg('rect', { class: 'bar', x: x + 0.5, y: HEIGHT - AXIS - height, width: Math.max(0, step - 1), height });
    rect.append(svg('title', {}, `${timeFormat.format(bar.start)}: ${bar.count} blobs`));
    parts.push(rect);
  });
  for (const i of [0, 15, 30, 45, bars.length - 1]) {
    const bar = bars[i];
    if (bar === undefined) continue;
    const anchor = i === 0 ? 'start' : i === bars.length - 1 ? 'end' : 'middle';
    parts.push(svg('text', { class: 'time', x: LABEL + i * step + (i === bars.length - 1 ? step : 0), y: HEIGHT - 4, 'text-anchor': anchor }, timeFormat.format(bar.start)));
  }
  target.replaceChildren(...parts);

  const known = bars.filter((b) => b.known);
  const total = known.reduce((sum, b) => sum + b.count, 0);
  if (known.length === 0) {
    caption.textContent = 'Blobs per minute over the last hour, by their timestamp: loading…';
    return;
  }
  const partial = known.length < bars.length ? ` (the ${bars.length - known.length} oldest minutes were not loaded, shown grey)` : '';
  caption.textContent =
    `Blobs per minute over the last hour, by their timestamp: ${total} in all${partial}` +
    (top && top.count > 0 ? `; the busiest minute, ${timeFormat.format(top.start)}–${timeFormat.format(top.start + MINUTE_MS)}, had ${top.count}.` : '.');
}
