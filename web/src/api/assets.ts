/** Uploading a source image or a mask (multipart `file`, `role`), with progress. */

import type { Asset } from "@contract/api";
import type { InferResponseType } from "hono/client";
import { api } from "./client";
import { type UploadOptions, uploadForm } from "./upload";

type UploadedAsset = InferResponseType<typeof api.assets.$post>;

export function uploadAsset(
  file: Blob,
  role: "input" | "mask",
  options: UploadOptions = {},
  fileName?: string,
): Promise<Asset> {
  const form = new FormData();
  if (fileName) form.append("file", file, fileName);
  else form.append("file", file);
  form.append("role", role);
  return uploadForm<UploadedAsset>(api.assets.$url(), form, options);
}
