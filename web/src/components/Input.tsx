/**
 * Text controls with one look: `Input`, `Textarea`, `Select`. Pass `invalid` to mark them (`aria-invalid`);
 * wrap them in a `Field` to get a label, hint and error message wired up by id.
 */
import type { ComponentProps } from "react";
import { cn } from "../lib/cn";

export const controlClass =
  "block w-full rounded-md border bg-white px-3 py-2 text-sm text-slate-900 shadow-xs placeholder:text-slate-400 " +
  "focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-indigo-500 " +
  "disabled:cursor-not-allowed disabled:opacity-60 dark:bg-slate-900 dark:text-slate-100 ";

function border(invalid?: boolean) {
  return invalid ? "border-red-500 dark:border-red-500" : "border-slate-300 dark:border-slate-700";
}

export function Input({ invalid, className, ...rest }: ComponentProps<"input"> & { invalid?: boolean }) {
  return <input className={cn(controlClass, border(invalid), className)} aria-invalid={invalid ? true : undefined} {...rest} />;
}

export function Textarea({ invalid, className, ...rest }: ComponentProps<"textarea"> & { invalid?: boolean }) {
  return (
    <textarea className={cn(controlClass, border(invalid), className)} aria-invalid={invalid ? true : undefined} {...rest} />
  );
}

export function Select({ invalid, className, ...rest }: ComponentProps<"select"> & { invalid?: boolean }) {
  return (
    <select className={cn(controlClass, border(invalid), "pr-8", className)} aria-invalid={invalid ? true : undefined} {...rest} />
  );
}
