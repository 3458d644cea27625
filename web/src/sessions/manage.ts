/**
 * Managing a session as a whole: delete it into the trash (with "Undo"), clone it. The list and the
 * session page both use these.
 */
import type { Session } from "@contract/api";
import { cloneSession, deleteSession } from "../api/sessions";
import { restoreFromTrash } from "../api/trash";
import { announce } from "../ui/announcer";
import { showToast } from "../ui/toast";

/** Moves the session to the trash; `restored` runs if the toast's Undo brings it back. */
export async function trashSession(
  session: Pick<Session, "id" | "title">,
  effects: { removed: () => void; restored: () => void },
): Promise<void> {
  await deleteSession(session.id);
  effects.removed();
  showToast({
    message: `“${session.title || "Untitled session"}” moved to the trash`,
    action: {
      label: "Undo",
      run: async () => {
        await restoreFromTrash(session.id);
        effects.restored();
        announce("Session restored");
      },
    },
  });
}

/** A copy of the session's generation settings and lineage, no images; the caller opens it. */
export async function cloneAndAnnounce(session: Pick<Session, "id" | "title">): Promise<Session> {
  const copy = await cloneSession(session.id);
  showToast({ message: `Cloned as “${copy.title}”` });
  return copy;
}
