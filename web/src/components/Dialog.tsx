/**
 * A modal dialog on Radix (focus trap, Escape to close, `aria-labelledby`).
 *
 * ```tsx
 * <Dialog open={open} onOpenChange={setOpen} title="New chat" description="Pick an agent"
 *   footer={<Button variant="primary" onClick={create}>Create</Button>}>
 *   ...form...
 * </Dialog>
 * ```
 *
 * Dialogs here are opened from state, without a Radix `Trigger`. On close the focus goes back to the element
 * that had it when the dialog opened (the button, menu trigger or row), or to `returnFocus()` when that element
 * has gone (say, the row was deleted) or there was none (a dialog opened by the URL), else to the main region.
 *
 * `description` is a line of text (it renders in a `<p>`); put anything else in `children`. Use
 * `ConfirmDialog` for yes/no questions about destructive actions.
 */
import * as RD from "@radix-ui/react-dialog";
import type { ReactNode } from "react";
import { cn } from "../lib/cn";
import { useOpenerFocus } from "../lib/useOpenerFocus";
import { Button, IconButton } from "./Button";
import { ProblemMessage } from "./States";

export interface DialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  /** One line of text under the title (phrasing content only: it is a `<p>`). */
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  className?: string;
  /** Where the focus goes on close when the element that opened the dialog is gone. */
  returnFocus?: () => HTMLElement | null | undefined;
}

export function Dialog({ open, onOpenChange, title, description, children, footer, className, returnFocus }: DialogProps) {
  const focus = useOpenerFocus(returnFocus);
  return (
    <RD.Root open={open} onOpenChange={onOpenChange}>
      <RD.Portal>
        <RD.Overlay className="fixed inset-0 z-40 bg-slate-950/50" />
        <RD.Content
          className={cn(
            "fixed top-1/2 left-1/2 z-50 flex max-h-[90vh] w-[calc(100vw-2rem)] max-w-lg -translate-x-1/2 -translate-y-1/2 flex-col",
            "rounded-lg border border-slate-200 bg-white shadow-xl dark:border-slate-800 dark:bg-slate-900",
            className,
          )}
          onOpenAutoFocus={focus.onOpenAutoFocus}
          onCloseAutoFocus={focus.onCloseAutoFocus}
          {...(description ? {} : { "aria-describedby": undefined })}
        >
          <div className="flex items-start justify-between gap-4 border-b border-slate-200 px-5 py-4 dark:border-slate-800">
            <div>
              <RD.Title className="text-base font-semibold">{title}</RD.Title>
              {description && (
                <RD.Description className="mt-1 text-sm text-slate-500 dark:text-slate-400">{description}</RD.Description>
              )}
            </div>
            <RD.Close asChild>
              <IconButton icon="close" label="Close" size="sm" />
            </RD.Close>
          </div>
          {children !== undefined && children !== null && children !== false && (
            <div className="overflow-y-auto px-5 py-4">{children}</div>
          )}
          {footer && (
            <div className="flex justify-end gap-2 border-t border-slate-200 px-5 py-3 dark:border-slate-800">{footer}</div>
          )}
        </RD.Content>
      </RD.Portal>
    </RD.Root>
  );
}

/**
 * A yes/no question: Cancel and a confirm button. `children` may hold any content (details, a warning box),
 * and `error` shows the server's refusal in place, so the dialog can stay open after a failed attempt.
 *
 * ```tsx
 * <ConfirmDialog open={open} onOpenChange={setOpen} title="Delete this rule?" description="It stops running."
 *   confirmLabel="Delete rule" danger loading={m.isPending} error={m.error} onConfirm={() => m.mutate(id)} />
 * ```
 */
export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  description,
  confirmLabel = "Confirm",
  danger = false,
  loading = false,
  error,
  onConfirm,
  children,
  returnFocus,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  /** One line of text (phrasing content only); anything else goes in `children`. */
  description?: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  loading?: boolean;
  /** A failure to show inside the dialog (an `ApiProblem` shows its detail and code). */
  error?: unknown;
  onConfirm: () => void;
  children?: ReactNode;
  returnFocus?: () => HTMLElement | null | undefined;
}) {
  const hasBody = Boolean(children) || Boolean(error);
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={title}
      description={description}
      returnFocus={returnFocus}
      footer={
        <>
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button variant={danger ? "danger" : "primary"} loading={loading} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      {hasBody ? (
        <div className="space-y-3 text-sm">
          {children}
          <ProblemMessage error={error} />
        </div>
      ) : null}
    </Dialog>
  );
}
