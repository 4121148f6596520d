/**
 * A tooltip on Radix: shows on hover and keyboard focus, dismissed with Escape. The trigger must be focusable
 * (a button or link). Don't put essential information only in a tooltip.
 *
 * ```tsx
 * <Tooltip content="Copy the id"><IconButton icon="copy" label="Copy" /></Tooltip>
 * ```
 */
import * as RT from "@radix-ui/react-tooltip";
import type { ReactNode } from "react";

export const TooltipProvider = RT.Provider;

export function Tooltip({ content, children, side = "top" }: { content: ReactNode; children: ReactNode; side?: "top" | "bottom" | "left" | "right" }) {
  return (
    <RT.Root delayDuration={300}>
      <RT.Trigger asChild>{children}</RT.Trigger>
      <RT.Portal>
        <RT.Content
          side={side}
          sideOffset={6}
          className="z-[70] max-w-xs rounded-md bg-slate-900 px-2 py-1 text-xs text-white shadow-md dark:bg-slate-100 dark:text-slate-900"
        >
          {content}
          <RT.Arrow className="fill-slate-900 dark:fill-slate-100" />
        </RT.Content>
      </RT.Portal>
    </RT.Root>
  );
}
