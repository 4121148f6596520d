/** Class names shared by the agent, run and approval pages. */
export const linkClass =
  "font-medium text-indigo-700 underline-offset-2 hover:underline focus-visible:rounded focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

export const checkboxClass =
  "size-4 shrink-0 rounded border-slate-300 text-indigo-600 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:border-slate-600";

export const sectionClass = "space-y-4 rounded-lg border border-slate-200 p-4 dark:border-slate-800";

export const legendClass = "px-1 text-sm font-semibold";
