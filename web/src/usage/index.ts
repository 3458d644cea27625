/** What the account spent: the Usage page (App.tsx loads it when it is opened). */
export { UsagePage } from "./UsagePage";
