/**
 * Light/dark theme. The choice ("light", "dark" or "system") is UI state and is kept in localStorage; "system"
 * follows `prefers-color-scheme` live. Applied as a `dark` class on <html> from the bundle (no inline script:
 * the CSP forbids it).
 */
import { create } from "zustand";

export type ThemeChoice = "light" | "dark" | "system";
const KEY = "secops.theme";

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

const media = typeof window !== "undefined" ? window.matchMedia("(prefers-color-scheme: dark)") : null;

export function resolveTheme(choice: ThemeChoice): "light" | "dark" {
  if (choice === "system") return media?.matches ? "dark" : "light";
  return choice;
}

function apply(choice: ThemeChoice): void {
  const dark = resolveTheme(choice) === "dark";
  document.documentElement.classList.toggle("dark", dark);
  document.documentElement.style.colorScheme = dark ? "dark" : "light";
}

interface ThemeState {
  choice: ThemeChoice;
  setChoice: (c: ThemeChoice) => void;
}

export const useTheme = create<ThemeState>()((set) => ({
  choice: typeof window !== "undefined" ? stored() : "system",
  setChoice: (choice) => {
    try {
      if (choice === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      // Private mode: the choice lasts for this tab.
    }
    apply(choice);
    set({ choice });
  },
}));

/** Call once before the first render. */
export function initTheme(): void {
  apply(useTheme.getState().choice);
  media?.addEventListener("change", () => {
    if (useTheme.getState().choice === "system") apply("system");
  });
}
