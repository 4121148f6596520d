import type { ReactNode } from "react";
import { useDocumentTitle } from "../../components";

/** The centred card of the sign-in and registration pages. */
export function AuthLayout({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  useDocumentTitle(title);
  return (
    <main className="flex min-h-dvh items-center justify-center bg-slate-50 px-4 py-10 dark:bg-slate-950">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center justify-center gap-2 text-lg font-semibold">
          <svg viewBox="0 0 32 32" className="size-7" aria-hidden>
            <path fill="#4f46e5" d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" />
            <path fill="#fff" d="m14 20.6-4.3-4.3 1.4-1.4 2.9 2.9 6.9-6.9 1.4 1.4z" />
          </svg>
          secops
        </div>
        <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
          <h1 className="mb-4 text-lg font-semibold">{title}</h1>
          {children}
        </div>
        {footer && <div className="mt-4 text-center text-sm text-slate-600 dark:text-slate-400">{footer}</div>}
      </div>
    </main>
  );
}
