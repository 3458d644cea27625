/**
 * Renders the example images of the landing page (web/public/examples/) with the emulator's image
 * renderer: what the app makes offline, from these very prompts and seeds. Run again after changing
 * the renderer: `npx tsx scripts/landing-examples.ts`.
 */
import { writeFileSync } from "node:fs";
import { renderImage } from "../emulator/images";

export const LANDING_EXAMPLES = [
  { file: "lighthouse.webp", prompt: "a lighthouse on a cliff at dawn, volumetric light", seed: 7 },
  { file: "fox.webp", prompt: "a red fox in fresh snow", seed: 21 },
  { file: "island.webp", prompt: "a watercolor map of an island", seed: 3 },
] as const;

const SIZE = 384;
const base = { width: SIZE, height: SIZE, format: "webp", quality: 78, index: 0, variation: "", strength: 1 } as const;

for (const example of LANDING_EXAMPLES) {
  writeFileSync(`web/public/examples/${example.file}`, await renderImage({ ...base, ...example }));
}
// One iteration: the island again, started from the first picture of it.
const island = await renderImage({ ...base, prompt: LANDING_EXAMPLES[2].prompt, seed: LANDING_EXAMPLES[2].seed });
writeFileSync(
  "web/public/examples/island-sunset.webp",
  await renderImage({ ...base, prompt: "the island at sunset", seed: 4, source: island, strength: 0.55 }),
);
