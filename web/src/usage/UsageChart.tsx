import type { Usage } from "@contract/api";
import { createSignal, For, type JSX, onCleanup, onMount, Show } from "solid-js";
import { formatCost } from "../lib/format";

// Drawn at the width it is shown at (one SVG unit a CSS pixel), so its text keeps the page's size on
// a phone and on a wide screen alike.
const INITIAL_WIDTH = 440;
const HEIGHT = 220;
const PAD = { top: 14, right: 30, bottom: 26, left: 56 };

/** A rounded-up axis maximum (1, 2 or 5 times a power of ten). */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

const shortDay = (day: string): string =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/**
 * Cost per day as bars (left axis, USD) and generations per day as a line (right axis), drawn as
 * SVG: no chart library for one chart. The same numbers are in the table below it.
 */
export function UsageChart(props: { days: Usage["byDay"] }): JSX.Element {
  let svg: SVGSVGElement | undefined;
  const [width, setWidth] = createSignal(INITIAL_WIDTH);
  onMount(() => {
    const box = svg?.parentElement;
    if (!box) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(240, Math.floor(entry.contentRect.width)));
    });
    observer.observe(box);
    onCleanup(() => observer.disconnect());
  });
  const plotW = () => width() - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const costMax = () => niceMax(Math.max(...props.days.map((d) => d.cost), 0));
  const countMax = () => niceMax(Math.max(...props.days.map((d) => d.generations), 0));
  const slot = () => plotW() / Math.max(1, props.days.length);
  const x = (index: number) => PAD.left + slot() * index + slot() / 2;
  const yCost = (cost: number) => PAD.top + plotH - (cost / costMax()) * plotH;
  const yCount = (count: number) => PAD.top + plotH - (count / countMax()) * plotH;
  const line = () =>
    props.days.map((d, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${yCount(d.generations).toFixed(1)}`).join(" ");
  // A date label about every 90 px, counted back from the last day.
  const labelEvery = () => Math.max(1, Math.ceil(props.days.length / Math.max(2, Math.floor(plotW() / 90))));

  return (
    <svg
      ref={svg}
      class="usagechart"
      viewBox={`0 0 ${width()} ${HEIGHT}`}
      width={width()}
      height={HEIGHT}
      role="img"
      aria-labelledby="usage-chart-title"
      data-testid="usage-chart"
    >
      <title id="usage-chart-title">Cost (bars) and generations (line) per day</title>
      <For each={[0, 0.5, 1]}>
        {(fraction) => (
          <g>
            <line
              class="usagechart__grid"
              x1={PAD.left}
              x2={width() - PAD.right}
              y1={PAD.top + plotH * (1 - fraction)}
              y2={PAD.top + plotH * (1 - fraction)}
            />
            <text class="usagechart__axis" x={PAD.left - 6} y={PAD.top + plotH * (1 - fraction) + 4} text-anchor="end">
              {formatCost(costMax() * fraction)}
            </text>
            <text
              class="usagechart__axis usagechart__axis--count"
              x={width() - PAD.right + 6}
              y={PAD.top + plotH * (1 - fraction) + 4}
            >
              {Math.round(countMax() * fraction)}
            </text>
          </g>
        )}
      </For>
      <For each={props.days}>
        {(day, index) => (
          <g>
            <rect
              class="usagechart__bar"
              x={x(index()) - slot() * 0.35}
              y={yCost(day.cost)}
              width={slot() * 0.7}
              height={Math.max(0, PAD.top + plotH - yCost(day.cost))}
              rx={2}
            >
              <title>
                {shortDay(day.day)}: {formatCost(day.cost)}, {day.generations} generations
              </title>
            </rect>
            <Show when={(props.days.length - 1 - index()) % labelEvery() === 0}>
              <text class="usagechart__axis" x={x(index())} y={HEIGHT - 8} text-anchor="middle">
                {shortDay(day.day)}
              </text>
            </Show>
          </g>
        )}
      </For>
      <path class="usagechart__line" d={line()} />
      <For each={props.days}>
        {(day, index) => <circle class="usagechart__dot" cx={x(index())} cy={yCount(day.generations)} r={2.5} />}
      </For>
    </svg>
  );
}
