/**
 * Focus return for Radix overlays opened from state (no Radix `Trigger`). Radix then sends focus on close to
 * its missing trigger, i.e. to `<body>`, and keyboard users start over from the top of the page. Spread the
 * handlers on the overlay's `Content`:
 *
 * ```tsx
 * const focus = useOpenerFocus(() => document.getElementById("search"));
 * <RD.Content onOpenAutoFocus={focus.onOpenAutoFocus} onCloseAutoFocus={focus.onCloseAutoFocus}>
 * ```
 *
 * On open it remembers the focused element (the opener: the button, menu trigger or row that opened it); on
 * close it focuses it again. When the opener is gone (the row was deleted, the overlay was opened by a URL), it
 * focuses `fallback()`, else the main region (`#main`).
 */
import { useRef } from "react";

interface AutoFocusEvent {
  preventDefault: () => void;
}

export function useOpenerFocus(fallback?: () => HTMLElement | null | undefined) {
  const opener = useRef<HTMLElement | null>(null);
  return {
    onOpenAutoFocus: () => {
      // Radix calls this when the content mounts, before it moves focus in: the focus is still on the opener.
      const active = document.activeElement;
      opener.current = active instanceof HTMLElement && active !== document.body ? active : null;
    },
    // Radix calls the handler of the last render, also after the content has unmounted.
    onCloseAutoFocus: (event: AutoFocusEvent) => {
      event.preventDefault();
      const el = opener.current;
      opener.current = null;
      const target = el?.isConnected ? el : (fallback?.() ?? document.getElementById("main"));
      target?.focus();
    },
  };
}
