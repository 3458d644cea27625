/** The account's settings: API tokens and deleting the account. */
export { SettingsPage } from "./SettingsPage";
