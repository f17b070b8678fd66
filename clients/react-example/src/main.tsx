import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App";

// The backend: ?api=http://host:port, else VITE_AUTOOPS_API at build time, else the default port.
const api =
  new URLSearchParams(window.location.search).get("api") ??
  import.meta.env.VITE_AUTOOPS_API ??
  "http://localhost:8000";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App baseUrl={api} />
  </StrictMode>,
);
