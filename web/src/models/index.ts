/** Models: what each can do and costs, the picker that chooses one, their schemas. */
export {
  addModelByName,
  DEFAULT_MODEL_ID,
  DEFAULT_VIDEO_MODEL_ID,
  estimateCost,
  loadModelSchema,
  type ModelNeeds,
  modelLabel,
  priceLabel,
  removeAddedModel,
  unmetNeed,
  useModels,
} from "./catalog";
export { ModelPicker } from "./ModelPicker";
