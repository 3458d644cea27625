/** The model catalog: what each model can do, and the list the forms choose from. */
export { DEFAULT_MODEL_ID, type ModelNeeds, modelLabel, unmetNeed, useModels } from "./catalog";
