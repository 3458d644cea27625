/**
 * The prompt form, shared by the Studio and a session: its state (`createComposer`), its markup
 * (`PromptComposer`) and "start from an image" (`createSourceUpload`).
 */
export { type Composer, createComposer } from "./composer";
export { PromptComposer, SUBMIT_SHORTCUT } from "./PromptComposer";
export { SourcePickers, SourceUploadChip } from "./SourceUploadView";
export { createSourceUpload, type SourceUpload } from "./sourceUpload";
