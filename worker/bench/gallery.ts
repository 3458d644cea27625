/**
 * The gallery at scale in headless Chromium (target: DOM nodes at 10,000 images ≤ 1.2 × at 100, and
 * no long task over 50 ms while scrolling). One app started as `npm run dev` starts it, seeded with
 * two people (`npm run seed`): one with 100 images, one with 10,000. For each screen size (a phone,
 * 390×844, and a desktop, 1280×800) and each person: sign in, open /gallery, count the DOM's nodes
 * once the first page shows, then scroll as a fast fling does (200 px a frame: 12,000 px/s at 60
 * frames a second) through `scrollImages` images (or to the end), counting nodes at every step,
 * with a PerformanceObserver recording every long task.
 *
 * Thumbnails are not fetched (images disabled in the browser): the grid's DOM is the same (its
 * <img> elements are there), and the run does not wait behind thousands of thumbnails made by the
 * local Images binding on a shared machine.
 *
 *   npm run bench -- --only gallery [--scroll-images 2000] [--task-cpu] [--trace trace.json]
 *
 * `--task-cpu` (implied by `--trace`) records a trace of the scroll at 10,000 images and gives each
 * long task's CPU time on the page's main thread: a task of little CPU that took long by the clock
 * waited for a core (other processes on the machine), which is not work the page could shed.
 */
import { writeFileSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { type SeedSummary, startStack } from "../../web/e2e/stack";

type Row = [benchmark: string, measure: string, result: string];

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const VIEWPORTS = [
  ["phone 390×844", { width: 390, height: 844 }],
  ["desktop 1280×800", { width: 1280, height: 800 }],
] as const;

/** Recorded from the page's first script on, so nothing is missed before the bench looks. */
const RECORD_LONG_TASKS = `
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
`;

/** The scroll's long tasks (over 50 ms by the clock) as the trace saw them, with the main thread's CPU in each. */
type TaskCpu = { longTasks: number; cpuMs: number[] };

type ScrollResult = {
  firstPageNodes: number;
  maxNodes: number;
  lastNodes: number;
  listed: number;
  reached: number;
  scrollMs: number;
  frames: number;
  loadLongTasks: number[];
  scrollLongTasks: number[];
  taskCpu?: TaskCpu;
};

type TraceEvent = {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
};

/** The main thread of the page's renderer: the one of that name with the most events. */
function taskCpuOf(events: TraceEvent[]): TaskCpu {
  const counts = new Map<string, number>();
  const mainThreads = new Set<string>();
  for (const event of events) {
    const thread = `${event.pid}:${event.tid}`;
    counts.set(thread, (counts.get(thread) ?? 0) + 1);
    if (event.ph === "M" && event.name === "thread_name" && event.args?.name === "CrRendererMain")
      mainThreads.add(thread);
  }
  const main = [...mainThreads].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0))[0];
  const tasks = events
    .filter((event) => event.ph === "X" && event.name === "RunTask" && `${event.pid}:${event.tid}` === main)
    .sort((a, b) => a.ts - b.ts);
  // Top-level tasks only (a nested run loop's tasks are inside another).
  const cpuMs: number[] = [];
  let end = Number.NEGATIVE_INFINITY;
  for (const task of tasks) {
    if (task.ts < end) continue;
    end = task.ts + (task.dur ?? 0);
    if ((task.dur ?? 0) > 50_000) cpuMs.push((task.tdur ?? task.dur ?? 0) / 1000);
  }
  return { longTasks: cpuMs.length, cpuMs };
}
/**
 * In the page (as a string: the benchmarks are typed for Node, not the DOM): scrolls 200 px a frame
 * until the grid has shown image `target` (or its end), counting the DOM's nodes each frame.
 */
const SCROLL_GALLERY = `async (target) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const grid = () => document.querySelector(".vgrid");
  const furthest = () => {
    let most = 0;
    for (const cell of document.querySelectorAll(".vgrid__cell"))
      most = Math.max(most, Number(cell.getAttribute("aria-posinset")));
    return most;
  };
  const started = performance.now();
  let maxNodes = 0;
  let frames = 0;
  const deadline = Date.now() + 300000;
  while (Date.now() < deadline) {
    window.scrollBy(0, 200);
    await frame();
    frames++;
    maxNodes = Math.max(maxNodes, document.getElementsByTagName("*").length);
    const atEnd = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
    if (furthest() >= target || (grid()?.dataset.more === "false" && atEnd)) break;
  }
  // The last frame's work shows by the next one; a long task is reported once it has ended.
  await frame();
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    maxNodes,
    lastNodes: document.getElementsByTagName("*").length,
    listed: Number(grid()?.dataset.count),
    reached: furthest(),
    scrollMs: performance.now() - started,
    frames,
    scrollLongTasks: window.__longTasks.filter((task) => task.start >= started).map((task) => task.duration),
  };
}`;

function scrollGallery(page: Page, target: number): Promise<Omit<ScrollResult, "firstPageNodes" | "loadLongTasks">> {
  return page.evaluate(`(${SCROLL_GALLERY})(${target})`);
}

async function measure(
  browser: Browser,
  url: string,
  who: SeedSummary,
  viewport: { width: number; height: number },
  target: number,
  trace: { path?: string } | undefined,
): Promise<ScrollResult> {
  const phone = viewport.width < 600;
  const context = await browser.newContext({ viewport, deviceScaleFactor: 2, hasTouch: phone, isMobile: phone });
  try {
    const login = await context.request.post(`${url}/api/auth/login`, {
      data: { email: who.email, password: who.password },
    });
    if (login.status() !== 200) throw new Error(`sign-in answered ${login.status()}`);
    await context.addInitScript(RECORD_LONG_TASKS);
    const page = await context.newPage();
    await page.goto(`${url}/gallery`);
    await page.locator('[data-testid="gallery-item"]').first().waitFor({ timeout: 60_000 });
    // Two frames: the first page laid out and painted.
    await page.evaluate("new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))");
    const firstPageNodes = await page.evaluate<number>('document.getElementsByTagName("*").length');
    const loadLongTasks = await page.evaluate<number[]>("window.__longTasks.map((task) => task.duration)");
    const cdp = trace ? await context.newCDPSession(page) : null;
    const traceEvents: TraceEvent[] = [];
    if (cdp) {
      // The protocol's types say every field is a string; the events carry numbers (ts, dur, pid…).
      cdp.on("Tracing.dataCollected", (event) => traceEvents.push(...(event.value as unknown as TraceEvent[])));
      await cdp.send("Tracing.start", {
        // Without a file, only what gives each task's CPU time (the profiler costs the page some).
        categories: trace?.path
          ? "devtools.timeline,disabled-by-default-devtools.timeline,v8.execute,blink.user_timing,disabled-by-default-v8.cpu_profiler"
          : "disabled-by-default-devtools.timeline",
        transferMode: "ReportEvents",
      });
    }
    const scrolled = await scrollGallery(page, target);
    let taskCpu: TaskCpu | undefined;
    if (cdp) {
      const done = new Promise((resolve) => cdp.once("Tracing.tracingComplete", resolve));
      await cdp.send("Tracing.end");
      await done;
      if (trace?.path) writeFileSync(trace.path, JSON.stringify({ traceEvents }));
      taskCpu = taskCpuOf(traceEvents);
    }
    return { firstPageNodes, loadLongTasks, ...scrolled, ...(taskCpu ? { taskCpu } : {}) };
  } finally {
    await context.close();
  }
}

const summary = (durations: number[]) =>
  durations.length
    ? `${durations.length} (max ${Math.max(...durations).toFixed(0)} ms; over 50 ms: ${durations.filter((d) => d > 50).length})`
    : "0";

export async function runGallery(options: {
  scrollImages: number;
  tracePath?: string;
  taskCpu?: boolean;
}): Promise<Row[]> {
  const stamp = Date.now();
  const sizes = [100, 10_000] as const;
  const stack = await startStack({
    timeoutMs: 240_000,
    seedUsers: sizes.map((images) => ({ email: `gallery-${images}-${stamp}@example.com`, images })),
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--blink-settings=imagesEnabled=false"],
  });
  const rows: Row[] = [];
  const push = (row: Row) => {
    console.error(`  ${row.join(" | ")}`);
    rows.push(row);
  };
  try {
    for (const [name, viewport] of VIEWPORTS) {
      const results = new Map<number, ScrollResult>();
      for (const [index, size] of sizes.entries()) {
        const who = stack.seededUsers[index]!;
        const traced = size === 10_000 && (options.tracePath !== undefined || options.taskCpu === true);
        const path = options.tracePath?.replace(/(\.json)?$/, `-${viewport.width}.json`);
        const trace = traced ? (path ? { path } : {}) : undefined;
        const result = await measure(browser, stack.url, who, viewport, options.scrollImages, trace);
        results.set(size, result);
        const label = `Gallery of ${size.toLocaleString("en")} images, ${name}`;
        push([
          label,
          "DOM nodes: first page / most while scrolling / at the end",
          `${result.firstPageNodes} / ${result.maxNodes} / ${result.lastNodes}`,
        ]);
        push([
          label,
          "scrolled 200 px a frame",
          `to image ${result.reached} of ${result.listed} listed, ${result.frames} frames in ${(result.scrollMs / 1000).toFixed(1)} s`,
        ]);
        push([label, "long tasks while scrolling (target: none over 50 ms)", summary(result.scrollLongTasks)]);
        if (result.taskCpu) {
          const { longTasks, cpuMs } = result.taskCpu;
          push([
            label,
            "long tasks in the trace: main-thread CPU of each (over 50 ms of CPU)",
            longTasks
              ? `${longTasks}: ${cpuMs.map((ms) => ms.toFixed(0)).join(", ")} ms (${cpuMs.filter((ms) => ms > 50).length})`
              : "0",
          ]);
        }
        push([label, "long tasks while loading the page", summary(result.loadLongTasks)]);
      }
      const ratio = results.get(10_000)!.maxNodes / results.get(100)!.maxNodes;
      push([`Gallery, ${name}`, "most DOM nodes at 10,000 ÷ at 100 (target ≤ 1.2)", ratio.toFixed(2)]);
    }
    return rows;
  } catch (error) {
    console.error(stack.output().split("\n").slice(-60).join("\n"));
    throw error;
  } finally {
    await browser.close();
    await stack.stop();
  }
}
