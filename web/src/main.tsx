import { render } from "solid-js/web";
import { App } from "./app/App";
import { registerServiceWorker } from "./lib/offline";
// Shared controls (segmented buttons, icon buttons, confirmations) appear on every page, whichever
// chunk renders them first; they come before the page styles, which place them per screen size.
import "./ui/controls.css";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
render(() => <App />, root);
registerServiceWorker();
