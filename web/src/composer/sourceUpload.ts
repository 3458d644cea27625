/**
 * "Start from an image": one picked or photographed file, uploaded as an `input` asset whose id goes
 * in the next generation's `sourceAssetId`.
 */

import type { Asset } from "@contract/api";
import { onCleanup } from "solid-js";
import { createStore } from "solid-js/store";
import { uploadAsset } from "../api/assets";
import { errorMessage } from "../api/errors";
import { isAbortError } from "../api/upload";
import { announce } from "../ui/announcer";

export type SourceUploadState = {
  status: "idle" | "uploading" | "ready" | "failed";
  progress: number;
  name: string;
  previewUrl: string | null;
  asset: Asset | null;
  error: string | null;
};

export type SourceUpload = {
  state: SourceUploadState;
  upload: (file: File) => void;
  clear: () => void;
};

const IDLE: SourceUploadState = { status: "idle", progress: 0, name: "", previewUrl: null, asset: null, error: null };

export function createSourceUpload(onReady?: (asset: Asset) => void): SourceUpload {
  const [state, setState] = createStore<SourceUploadState>({ ...IDLE });
  let controller: AbortController | undefined;
  let objectUrl: string | undefined;

  const release = () => {
    controller?.abort();
    controller = undefined;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = undefined;
  };

  const upload = (file: File) => {
    release();
    objectUrl = URL.createObjectURL(file);
    const mine = new AbortController();
    controller = mine;
    setState({
      status: "uploading",
      progress: 0,
      name: file.name || "Photo",
      previewUrl: objectUrl,
      asset: null,
      error: null,
    });
    uploadAsset(file, "input", { onProgress: (progress) => setState("progress", progress), signal: mine.signal })
      .then((asset) => {
        if (controller !== mine) return;
        setState({ status: "ready", progress: 1, asset });
        announce(`${file.name || "Your image"} is ready to start from.`);
        onReady?.(asset);
      })
      .catch((error: unknown) => {
        if (isAbortError(error) || controller !== mine) return;
        const message = errorMessage(error);
        setState({ status: "failed", error: message });
        announce(`The image was not uploaded: ${message}`);
      });
  };

  const clear = () => {
    release();
    setState({ ...IDLE });
  };

  onCleanup(release);
  return { state, upload, clear };
}
