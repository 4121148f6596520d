/**
 * Tabs. `LinkTabs` is a tab bar of routes (each tab a URL, e.g. the Settings sub-pages), rendered as a
 * navigation landmark with `aria-current`; `Tabs` (Radix) is for in-page panels.
 */
import * as RTabs from "@radix-ui/react-tabs";
import type { ReactNode } from "react";
import { NavLink } from "react-router";
import { cn } from "../lib/cn";

const tabClass =
  "-mb-px border-b-2 px-3 py-2 text-sm font-medium whitespace-nowrap focus-visible:outline-2 focus-visible:outline-indigo-500";

export function LinkTabs({ tabs, label }: { tabs: { to: string; label: string; end?: boolean }[]; label: string }) {
  return (
    <nav aria-label={label} className="flex gap-1 overflow-x-auto border-b border-slate-200 dark:border-slate-800">
      {tabs.map((t) => (
        <NavLink
          key={t.to}
          to={t.to}
          end={t.end}
          className={({ isActive }) =>
            cn(
              tabClass,
              isActive
                ? "border-indigo-600 text-indigo-700 dark:text-indigo-300"
                : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100",
            )
          }
        >
          {t.label}
        </NavLink>
      ))}
    </nav>
  );
}

export function Tabs({
  tabs,
  value,
  onValueChange,
  defaultValue,
  label,
}: {
  tabs: { value: string; label: string; content: ReactNode }[];
  value?: string;
  onValueChange?: (v: string) => void;
  defaultValue?: string;
  label: string;
}) {
  return (
    <RTabs.Root
      {...(value !== undefined ? { value } : {})}
      {...(onValueChange ? { onValueChange } : {})}
      defaultValue={defaultValue ?? tabs[0]?.value}
    >
      <RTabs.List aria-label={label} className="flex gap-1 border-b border-slate-200 dark:border-slate-800">
        {tabs.map((t) => (
          <RTabs.Trigger
            key={t.value}
            value={t.value}
            className={cn(
              tabClass,
              "border-transparent text-slate-600 data-[state=active]:border-indigo-600 data-[state=active]:text-indigo-700 dark:text-slate-400 dark:data-[state=active]:text-indigo-300",
            )}
          >
            {t.label}
          </RTabs.Trigger>
        ))}
      </RTabs.List>
      {tabs.map((t) => (
        <RTabs.Content key={t.value} value={t.value} className="pt-4 focus-visible:outline-2 focus-visible:outline-indigo-500">
          {t.content}
        </RTabs.Content>
      ))}
    </RTabs.Root>
  );
}
