import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import { restoreSession } from "./auth/actions";
import { watchVisibility } from "./auth/tokens";
import { initTheme } from "./lib/theme";
import "./styles.css";

initTheme();
// Restore the session from the refresh cookie before the router decides between /login and the app.
void restoreSession();
watchVisibility();

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
