import { FileButton } from "../ui/FileButton";
import { CameraIcon, PlusIcon } from "../ui/icons";

/** The two ways to add reference images: pick files, or take a photo with the camera. */
export function ReferencePickers(props: {
  onFiles: (files: File[]) => void;
  disabled?: boolean;
  /** Button classes, when not the small ghost buttons of the prompt's tray. */
  classes?: { add: string; camera: string };
}) {
  return (
    <>
      <FileButton
        label="Add reference images"
        text="Add"
        icon={<PlusIcon />}
        accept="image/*"
        multiple
        class={props.classes?.add}
        disabled={props.disabled}
        onFiles={(files) => props.onFiles(files)}
      />
      <FileButton
        label="Camera: take a reference photo"
        text="Camera"
        icon={<CameraIcon />}
        accept="image/*"
        capture="environment"
        class={props.classes?.camera}
        disabled={props.disabled}
        onFiles={(files) => props.onFiles(files)}
      />
    </>
  );
}
