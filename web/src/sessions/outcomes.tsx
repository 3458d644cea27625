/**
 * Generations this tab asked for whose outcome hasn't been announced yet, kept per session. A fast
 * model can finish before the session page has loaded (so no status change is ever seen live); the
 * person still hears how the generation they asked for ended.
 *
 * The Studio leaves the id of the first generation here before it opens the new session. A session
 * page takes its own session's ids while it is open (`claim`) and hands back the ones still pending
 * when it closes, so coming back later still announces them, and no page sees another session's.
 */
import { createContext, type JSX, onCleanup, useContext } from "solid-js";

export type AwaitedOutcomes = {
  /** The outcome of this generation, in this session, is to be announced when it is known. */
  expect: (sessionId: string, generationId: string) => void;
  /**
   * The session's pending ids, owned by the caller until its owner is cleaned up; the caller adds
   * the generations it creates and deletes the ones it has announced.
   */
  claim: (sessionId: string) => Set<string>;
};

function createAwaitedOutcomes(): AwaitedOutcomes {
  const pending = new Map<string, Set<string>>();
  const idsOf = (sessionId: string): Set<string> => {
    let ids = pending.get(sessionId);
    if (!ids) {
      ids = new Set();
      pending.set(sessionId, ids);
    }
    return ids;
  };
  return {
    expect: (sessionId, generationId) => {
      idsOf(sessionId).add(generationId);
    },
    claim: (sessionId) => {
      const claimed = new Set(pending.get(sessionId));
      pending.delete(sessionId);
      onCleanup(() => {
        if (claimed.size === 0) return;
        const ids = idsOf(sessionId);
        for (const id of claimed) ids.add(id);
      });
      return claimed;
    },
  };
}

const AwaitedOutcomesContext = createContext<AwaitedOutcomes>();

export function AwaitedOutcomesProvider(props: { children: JSX.Element }): JSX.Element {
  return (
    <AwaitedOutcomesContext.Provider value={createAwaitedOutcomes()}>{props.children}</AwaitedOutcomesContext.Provider>
  );
}

export function useAwaitedOutcomes(): AwaitedOutcomes {
  const context = useContext(AwaitedOutcomesContext);
  if (!context) throw new Error("useAwaitedOutcomes() must be used inside <AwaitedOutcomesProvider>");
  return context;
}
