import { type Generation, isTerminalStatus } from "@contract/api";
import { type Accessor, createMemo, For, type JSX, on, Show, untrack } from "solid-js";
import { plural } from "../lib/format";
import { BranchIcon, ImageIcon } from "../ui/icons";
import { buildLineage, type Chain, chainContains, pathToRoot } from "./lineage";
import { STATUS_LABEL } from "./StatusBadge";
import { outputsOf } from "./slots";

export type LineageViewProps = {
  generations: readonly Generation[];
  /** Every generation of the session is loaded: a missing parent was deleted, not merely older. */
  complete: boolean;
  selectedId: string | undefined;
  onSelect: (generationId: string) => void;
};

type Context = {
  byId: Accessor<ReadonlyMap<string, Generation>>;
  path: Accessor<ReadonlySet<string>>;
  selectedId: () => string | undefined;
  onSelect: (generationId: string) => void;
  complete: () => boolean;
};

/**
 * The tree of generations: parent above, children below; a run of single iterations stays in one
 * column and only real branches indent. The path from the root to the selected generation is lit.
 */
export function LineageView(props: LineageViewProps): JSX.Element {
  // Rebuild the tree only when its shape changes, not on every progress tick.
  const shape = createMemo(() => props.generations.map((g) => `${g.id}>${g.parentGenerationId ?? ""}`).join("|"));
  const forest = createMemo(
    on(shape, () =>
      untrack(() =>
        buildLineage(props.generations.map((g) => ({ id: g.id, parentGenerationId: g.parentGenerationId }))),
      ),
    ),
  );
  const byId = createMemo(() => new Map(props.generations.map((g) => [g.id, g] as const)));
  const path = createMemo(() => new Set(pathToRoot(byId(), props.selectedId)));
  /** Generations with two or more children. */
  const forkCount = createMemo(() => {
    let count = 0;
    const walk = (chain: Chain) => {
      if (chain.branches.length > 1) count += 1;
      chain.branches.forEach(walk);
    };
    forest().forEach(walk);
    return count;
  });
  const context: Context = {
    byId,
    path,
    selectedId: () => props.selectedId,
    onSelect: (id) => props.onSelect(id),
    complete: () => props.complete,
  };

  return (
    <section class="lineage" aria-labelledby="lineage-title">
      <div class="section-head lineage__head">
        <h2 id="lineage-title" class="section-head__title">
          <BranchIcon class="icon lineage__title-icon" />
          Lineage
        </h2>
        <span class="lineage__summary">
          {/* A session opened a page at a time shows the tree of what is loaded so far. */}
          <Show when={!props.complete}>newest </Show>
          {plural(props.generations.length, "generation")}
          <Show when={forest().length > 1}> · {plural(forest().length, "root")}</Show>
          <Show when={forkCount() > 0}> · {plural(forkCount(), "fork")}</Show>
        </span>
      </div>
      <Show
        when={props.generations.length > 0}
        fallback={<p class="lineage__empty">Each image you iterate from grows this tree.</p>}
      >
        <div class="lineage__scroll">
          <ul class="lineage__roots">
            <For each={forest()}>
              {(chain) => (
                <li class="lineage__root">
                  <ChainView chain={chain} context={context} />
                </li>
              )}
            </For>
          </ul>
        </div>
      </Show>
    </section>
  );
}

function ChainView(props: { chain: Chain; context: Context }): JSX.Element {
  const litBranch = () => props.chain.branches.findIndex((branch) => chainContains(branch, props.context.path()));
  return (
    <>
      <ol class="lineage__chain">
        <For each={props.chain.ids}>
          {(id, index) => (
            <Show when={props.context.byId().get(id)}>
              {(generation) => (
                <li
                  class="lineage__step"
                  classList={{ "is-on-path": props.context.path().has(id), "has-link": index() > 0 }}
                >
                  <Show when={index() > 0}>
                    <span class="lineage__link" aria-hidden="true" />
                  </Show>
                  <LineageNode
                    generation={generation()}
                    orphan={index() === 0 && props.chain.orphan && props.context.complete()}
                    parent={
                      generation().parentGenerationId
                        ? props.context.byId().get(generation().parentGenerationId ?? "")
                        : undefined
                    }
                    selected={props.context.selectedId() === id}
                    onPath={props.context.path().has(id)}
                    onSelect={() => props.context.onSelect(id)}
                  />
                </li>
              )}
            </Show>
          )}
        </For>
      </ol>
      <Show when={props.chain.branches.length > 0}>
        <ul class="lineage__branches">
          <For each={props.chain.branches}>
            {(branch, index) => (
              <li
                class="lineage__branch"
                classList={{
                  "is-up-lit": index() <= litBranch(),
                  "is-down-lit": index() < litBranch(),
                  "is-tick-lit": index() === litBranch(),
                }}
              >
                <span class="lineage__spine-up" aria-hidden="true" />
                <span class="lineage__spine-down" aria-hidden="true" />
                <span class="lineage__tick" aria-hidden="true" />
                <ChainView chain={branch} context={props.context} />
              </li>
            )}
          </For>
        </ul>
      </Show>
    </>
  );
}

function LineageNode(props: {
  generation: Generation;
  parent: Generation | undefined;
  orphan: boolean;
  selected: boolean;
  onPath: boolean;
  onSelect: () => void;
}): JSX.Element {
  const outputs = () => outputsOf(props.generation);
  const active = () => !isTerminalStatus(props.generation.status);
  const fromOutput = () => {
    const index = props.generation.sourceOutputIndex;
    if (index === null || !props.parent) return undefined;
    const parentCount = Math.max(
      outputsOf(props.parent).length,
      typeof props.parent.params.numOutputs === "number" ? props.parent.params.numOutputs : 1,
    );
    return parentCount > 1 ? `from image ${index + 1}` : undefined;
  };
  const fromUpload = () =>
    !props.generation.parentGenerationId && props.generation.inputs.some((a) => a.role === "input");
  const masked = () => props.generation.inputs.some((a) => a.role === "mask");
  const meta = () => {
    const parts: string[] = [STATUS_LABEL[props.generation.status]];
    if (props.generation.status === "running" && props.generation.progress > 0) {
      parts[0] = `${parts[0]} ${Math.round(props.generation.progress * 100)}%`;
    }
    if (outputs().length > 1) parts.push(`${outputs().length} images`);
    const from = fromOutput();
    if (from) parts.push(from);
    if (fromUpload()) parts.push("from an upload");
    if (masked()) parts.push("masked");
    return parts.join(" · ");
  };
  return (
    <button
      type="button"
      class="lineage__node"
      classList={{ "is-selected": props.selected, "is-on-path": props.onPath, [`is-${props.generation.status}`]: true }}
      data-testid="lineage-node"
      data-generation-id={props.generation.id}
      data-selected={props.selected ? "true" : "false"}
      aria-current={props.selected ? "true" : undefined}
      onClick={() => props.onSelect()}
    >
      <span class="lineage__thumb" classList={{ skeleton: active() && outputs().length === 0 }}>
        <Show
          when={outputs()[0]}
          fallback={
            <Show when={!active()}>
              <ImageIcon class="icon" />
            </Show>
          }
        >
          {(first) => <img src={first().thumbnailUrl} alt="" width={36} height={36} loading="lazy" decoding="async" />}
        </Show>
      </span>
      <span class="lineage__text">
        <span class="lineage__prompt">{props.generation.prompt}</span>
        <span class="lineage__meta">
          <span class={`lineage__dot lineage__dot--${props.generation.status}`} aria-hidden="true" />
          {meta()}
          <Show when={props.orphan}>
            <span class="lineage__orphan">source deleted</span>
          </Show>
        </span>
      </span>
    </button>
  );
}
