/**
 * The signed-in layout: a skip link, the left navigation (a drawer below `lg`), the top bar and the main
 * region where pages render. Landmarks: <nav>, <header>, <main>.
 *
 * `<main>` is the scroll container (the window does not scroll): it goes back to the top when the route's path
 * changes, and keeps its place when only the search params change (filters, tabs, an open dialog).
 */
import * as RD from "@radix-ui/react-dialog";
import { Suspense, useLayoutEffect, useRef, useState } from "react";
import { Outlet, useLocation } from "react-router";
import { IconButton, PageLoading } from "../../components";
import { useOpenerFocus } from "../../lib/useOpenerFocus";
import { SideNav } from "./SideNav";
import { TopBar } from "./TopBar";

export function AppShell() {
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  // Close the drawer when the route changes (adjusting state during render, no effect needed).
  const [path, setPath] = useState(location.pathname);
  if (path !== location.pathname) {
    setPath(location.pathname);
    setMenuOpen(false);
  }
  const main = useRef<HTMLElement>(null);
  useLayoutEffect(() => {
    main.current?.scrollTo({ top: 0, left: 0 });
  }, [location.pathname]);
  // The drawer has no Radix trigger: give the focus back to the button that opened it.
  const drawerFocus = useOpenerFocus();
  return (
    <div className="flex h-dvh overflow-hidden">
      <a
        href="#main"
        className="sr-only z-[80] rounded bg-indigo-600 px-3 py-2 text-white focus:not-sr-only focus:fixed focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <aside className="hidden w-60 shrink-0 border-r border-slate-200 bg-slate-50 lg:flex lg:flex-col dark:border-slate-800 dark:bg-slate-900">
        <Brand />
        <SideNav />
      </aside>
      <RD.Root open={menuOpen} onOpenChange={setMenuOpen}>
        <RD.Portal>
          <RD.Overlay className="fixed inset-0 z-40 bg-slate-950/50 lg:hidden" />
          <RD.Content
            className="fixed inset-y-0 left-0 z-50 flex w-72 max-w-[85vw] flex-col bg-slate-50 shadow-xl lg:hidden dark:bg-slate-900"
            aria-describedby={undefined}
            onOpenAutoFocus={drawerFocus.onOpenAutoFocus}
            onCloseAutoFocus={drawerFocus.onCloseAutoFocus}
          >
            <div className="flex items-center justify-between pr-2">
              <Brand />
              <RD.Close asChild>
                <IconButton icon="close" label="Close navigation" />
              </RD.Close>
            </div>
            <RD.Title className="sr-only">Navigation</RD.Title>
            <SideNav />
          </RD.Content>
        </RD.Portal>
      </RD.Root>
      <div className="flex min-w-0 flex-1 flex-col">
        <TopBar onOpenMenu={() => setMenuOpen(true)} />
        <main ref={main} id="main" tabIndex={-1} className="min-h-0 flex-1 overflow-y-auto focus:outline-none">
          <Suspense fallback={<PageLoading />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </div>
  );
}

function Brand() {
  return (
    <div className="flex h-14 items-center gap-2 px-4 font-semibold">
      <svg viewBox="0 0 32 32" className="size-6" aria-hidden>
        <path fill="#4f46e5" d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" />
        <path fill="#fff" d="m14 20.6-4.3-4.3 1.4-1.4 2.9 2.9 6.9-6.9 1.4 1.4z" />
      </svg>
      <span>secops</span>
    </div>
  );
}
