/** Uploading a source image or a mask: `POST /api/assets` (multipart `file`, `role`). */
import { type Asset, assetSchema } from "../../../worker/contract/api";
import { type UploadOptions, uploadForm } from "./upload";

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
  return uploadForm("/api/assets", form, assetSchema, options);
}
