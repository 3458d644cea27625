/**
 * Deleting an image: it goes to the trash at once and a toast offers "Undo" (restore). The caller
 * takes it out of what it shows and puts it back if Undo succeeds.
 */
import { deleteAsset } from "../api/images";
import { restoreFromTrash } from "../api/trash";
import { showToast } from "../ui/toast";

export async function trashImage(
  assetId: string,
  effects: { removed: () => void; restored: () => void },
): Promise<void> {
  await deleteAsset(assetId);
  effects.removed();
  showToast({
    message: "Image moved to the trash",
    action: {
      label: "Undo",
      run: async () => {
        await restoreFromTrash(assetId);
        effects.restored();
      },
    },
  });
}
