/** "Draw a mask" over an image, uploaded as a `mask` asset. */
export { MaskEditor, type MaskResult } from "./MaskEditor";
