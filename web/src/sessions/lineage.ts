/**
 * The tree of a session's generations, by `parentGenerationId`. A generation whose parent no longer
 * exists (deleted) is a root of its own, marked `orphan` ("source deleted").
 *
 * To stay readable with dozens of nodes, a straight run of iterations (each with exactly one child)
 * is one `Chain` drawn at the same depth; only a generation with two or more children opens
 * branches, one level deeper. A 50-step linear session is one column, not a 50-step staircase.
 */

export type LineageItem = { id: string; parentGenerationId: string | null };

export type Chain = {
  /** Generation ids, parent first; each one's only child follows it. */
  ids: string[];
  /** The children of the last id, when it has two or more. */
  branches: Chain[];
  /** The first id's parent was deleted. */
  orphan: boolean;
};

export function buildLineage(items: readonly LineageItem[]): Chain[] {
  const known = new Set(items.map((item) => item.id));
  const children = new Map<string, string[]>();
  const roots: { id: string; orphan: boolean }[] = [];
  for (const item of items) {
    const parent = item.parentGenerationId;
    if (parent && known.has(parent) && parent !== item.id) {
      const list = children.get(parent);
      if (list) list.push(item.id);
      else children.set(parent, [item.id]);
    } else {
      roots.push({ id: item.id, orphan: parent !== null });
    }
  }

  const seen = new Set<string>();
  const chainFrom = (start: string, orphan: boolean): Chain => {
    const ids = [start];
    seen.add(start);
    let current = start;
    for (;;) {
      const next = (children.get(current) ?? []).filter((id) => !seen.has(id));
      if (next.length !== 1) {
        return { ids, orphan, branches: next.map((id) => chainFrom(id, false)) };
      }
      current = next[0] ?? current;
      seen.add(current);
      ids.push(current);
    }
  };

  const forest = roots.map((root) => chainFrom(root.id, root.orphan));
  // A parent cycle (never expected from the server) leaves nodes unreached: show them as roots.
  for (const item of items) if (!seen.has(item.id)) forest.push(chainFrom(item.id, false));
  return forest;
}

/** The ids from `id` up to its root, `id` first. */
export function pathToRoot(items: ReadonlyMap<string, LineageItem>, id: string | undefined): string[] {
  const path: string[] = [];
  let current = id ? items.get(id) : undefined;
  while (current && !path.includes(current.id)) {
    path.push(current.id);
    current = current.parentGenerationId ? items.get(current.parentGenerationId) : undefined;
  }
  return path;
}

/** Whether a chain (or anything below it) contains one of `ids`. */
export function chainContains(chain: Chain, ids: ReadonlySet<string>): boolean {
  return chain.ids.some((id) => ids.has(id)) || chain.branches.some((branch) => chainContains(branch, ids));
}
