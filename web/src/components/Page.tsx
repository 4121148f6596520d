/**
 * Page scaffolding: `Page` sets the document title and padding; `PageHeader` is the h1 with optional actions.
 * Every page starts with one h1 so screen-reader users can jump to it.
 */
import type { ReactNode } from "react";
import { useDocumentTitle } from "../lib/useDocumentTitle";
import { cn } from "../lib/cn";

export function Page({ title, children, className }: { title: string; children: ReactNode; className?: string }) {
  useDocumentTitle(title);
  return <div className={cn("mx-auto w-full max-w-7xl px-4 py-6 sm:px-6", className)}>{children}</div>;
}

export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-start justify-between gap-4">
      <div>
        <h1 className="text-xl font-semibold tracking-tight">{title}</h1>
        {description && <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}

/** The placeholder for pages that are still to be built. */
export function ComingSoon({ title, description }: { title: string; description?: string }) {
  return (
    <Page title={title}>
      <PageHeader title={title} description={description} />
      <p className="text-sm text-slate-500 dark:text-slate-400">Coming soon.</p>
    </Page>
  );
}
