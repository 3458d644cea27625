/**
 * `npm run bench`: every benchmark, bounded in time, on loopback only, with one table at the end.
 *
 *   npm run bench                                   listing at 1k/10k/100k images, live, gallery, then webhooks (30 s at 200/s)
 *   npm run bench -- --only listing [--sizes 1000,10000] [--requests 200]
 *   npm run bench -- --only webhooks [--rate 200 --seconds 60 --via proxy]
 *   npm run bench -- --only gallery [--scroll-images 2000] [--task-cpu] [--trace trace.json]
 *                                                               DOM nodes and long tasks of the gallery
 *                                                               at 100 and 10,000 images, in headless Chromium
 *   npm run bench -- --only live [--rounds 8 --requests 200 --phases completion,requests,burst,upload,fanout,firstload]
 *                                                               completion to browser, request cost,
 *                                                               a burst of 200, upload, fan-out
 *   … [--devtools off]                              every wrangler started without its DevTools connection
 *                                                               (see below), to tell its cost from ours
 *
 * The listing query plans at the largest size are printed after the table.
 */
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { runGallery } from "./gallery";
import { runListing } from "./listing";
import { runLive } from "./live";
import { applyDevtoolsSwitch } from "./support";

const arg = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const only = arg("only");
// Wrangler's DevTools connection, on unless asked (see `applyDevtoolsSwitch`).
const devtools = applyDevtoolsSwitch(arg("devtools"));
const table: [string, string, string][] = [];
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function listing(): Promise<string[]> {
  const sizes = (arg("sizes") ?? "1000,10000,100000").split(",").map(Number);
  const result = await runListing(sizes, Number(arg("requests") ?? 200));
  for (const row of result.rows) {
    table.push([
      `${row.request} at ${row.size.toLocaleString("en")} images`,
      "p50 / p99",
      `${ms(row.p50)} / ${ms(row.p99)}`,
    ]);
  }
  for (const { request, ratio } of result.ratios) {
    table.push([
      request,
      `p99 at ${Math.max(...sizes).toLocaleString("en")} ÷ p99 at ${Math.min(...sizes).toLocaleString("en")} (target ≤ 1.5)`,
      ratio.toFixed(2),
    ]);
  }
  for (const [size, seconds] of Object.entries(result.seedSeconds)) {
    table.push([`npm run seed -- --images ${size}`, "time", `${seconds} s`]);
  }
  return result.plans.map((shape) => `${shape.name}\n${shape.plan.map((line) => `  ${line}`).join("\n")}`);
}

function webhooks(): void {
  const passed = ["rate", "seconds", "via", "predictions"].flatMap((name) =>
    arg(name) ? [`--${name}`, arg(name)!] : [],
  );
  const output = execFileSync(
    "node_modules/.bin/tsx",
    ["worker/bench/webhook-load.ts", ...(passed.length ? passed : ["--rate", "200", "--seconds", "30"])],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 },
  );
  const report = JSON.parse(output.slice(output.indexOf("{"), output.lastIndexOf("}") + 1)) as {
    rate: number;
    seconds: number;
    sent: number;
    statuses: Record<string, number>;
    latencyMs: { p50: number; p99: number };
    queue: { lost: number; drainSecondsAfterLoad: number };
    duplicateEffects: number;
  };
  const name = `POST /api/webhooks/replicate, ${report.rate}/s for ${report.seconds} s`;
  table.push([name, "answers", `${report.sent} sent: ${JSON.stringify(report.statuses)}`]);
  table.push([name, "p50 / p99", `${report.latencyMs.p50} ms / ${report.latencyMs.p99} ms`]);
  table.push([name, "queue lost / drained after", `${report.queue.lost} / ${report.queue.drainSecondsAfterLoad} s`]);
  table.push([name, "duplicate effects", String(report.duplicateEffects)]);
}

async function main(): Promise<void> {
  let plans: string[] = [];
  if (!only || only === "listing") plans = await listing();
  if (!only || only === "live") {
    const phases = arg("phases")?.split(",");
    table.push(
      ...(await runLive({
        rounds: Number(arg("rounds") ?? 8),
        requests: Number(arg("requests") ?? 200),
        ...(phases ? { phases } : {}),
      })),
    );
  }
  if (!only || only === "gallery") {
    const tracePath = arg("trace");
    table.push(
      ...(await runGallery({
        scrollImages: Number(arg("scroll-images") ?? 2000),
        ...(tracePath ? { tracePath } : {}),
        taskCpu: process.argv.includes("--task-cpu"),
      })),
    );
  }
  if (!only || only === "webhooks") webhooks();
  // A copy of the tree outside git (to benchmark one commit while working on the next) names its own.
  const commit =
    process.env.BENCH_COMMIT ?? execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  const widths = [0, 1, 2].map((column) => Math.max(...table.map((row) => row[column]!.length), 8));
  const line = (cells: string[]) => `| ${cells.map((cell, index) => cell.padEnd(widths[index]!)).join(" | ")} |`;
  console.log(
    `\nImage Studio benchmarks — commit ${commit}, wrangler's DevTools connection ${devtools}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
  );
  console.log(line(["Benchmark", "Measure", "Result"]));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const row of table) console.log(line(row));
  if (plans.length) console.log(`\nQuery plans at the largest size (EXPLAIN QUERY PLAN):\n\n${plans.join("\n")}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
