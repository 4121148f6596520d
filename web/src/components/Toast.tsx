/**
 * Toasts: short status messages in an `aria-live` region. Call from anywhere (no hook needed):
 *
 * ```ts
 * toast.success("Saved");
 * toast.error(problem);      // an ApiProblem (or any error): shows its detail and code
 * ```
 * Errors are announced assertively (`role="alert"`), others politely. `<Toaster />` is mounted once in the app.
 */
import { cn } from "../lib/cn";
import { IconButton } from "./Button";
import { useToasts, type ToastItem, type ToastTone } from "../lib/toast";

const tones: Record<ToastTone, string> = {
  info: "border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900",
  success: "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100",
  error: "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100",
};

export function Toaster() {
  const items = useToasts((s) => s.items);
  const dismiss = useToasts((s) => s.dismiss);
  const render = (list: ToastItem[]) =>
    list.map((t) => (
      <div key={t.id} className={cn("pointer-events-auto flex items-start gap-2 rounded-md border p-3 text-sm shadow-lg", tones[t.tone])}>
        <div className="min-w-0 flex-1">
          <p className="break-words">{t.message}</p>
          {t.code && <p className="mt-0.5 font-mono text-xs opacity-75">code: {t.code}</p>}
        </div>
        <IconButton icon="close" label="Dismiss" size="sm" onClick={() => dismiss(t.id)} />
      </div>
    ));
  return (
    <div className="pointer-events-none fixed right-4 bottom-4 z-[60] flex w-[min(24rem,calc(100vw-2rem))] flex-col gap-2">
      <div role="status" aria-live="polite" className="flex flex-col gap-2">
        {render(items.filter((t) => t.tone !== "error"))}
      </div>
      <div role="alert" aria-live="assertive" className="flex flex-col gap-2">
        {render(items.filter((t) => t.tone === "error"))}
      </div>
    </div>
  );
}
