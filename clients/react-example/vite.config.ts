import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Relative asset paths: the built page works from any static server or folder.
export default defineConfig({ plugins: [react()], base: "./" });
