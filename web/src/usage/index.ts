/** What the account spent: the Usage page (loaded when it is opened). */
import { lazy } from "solid-js";

export const UsagePage = lazy(() => import("./UsagePage").then((module) => ({ default: module.UsagePage })));
