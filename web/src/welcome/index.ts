/** The landing page: what Image Studio is, for someone who is not signed in. */
export { WelcomePage } from "./WelcomePage";
