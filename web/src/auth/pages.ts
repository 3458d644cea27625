/** The sign-in and sign-up pages, loaded when first visited (see app/App.tsx). */
export { SignInPage, SignUpPage } from "./AuthPage";
