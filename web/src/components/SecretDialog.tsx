/**
 * Shows a secret the server returns once (an API key secret, an invitation token) with a copy button and a
 * clear warning. The parent holds the secret in its own state (never in a query or the mutation cache) and
 * drops it in `onClose`; nothing else keeps it. `children` go under the secret (instructions, a link).
 *
 * ```tsx
 * <SecretDialog secret={secret} title="API key created" label="API key secret" onClose={() => setSecret(null)} />
 * ```
 */
import type { ReactNode } from "react";
import { Button } from "./Button";
import { CopyField } from "./CopyField";
import { Dialog } from "./Dialog";
import { Icon } from "./Icon";

export function SecretDialog({
  secret,
  title,
  label,
  onClose,
  children,
}: {
  secret: string | null;
  title: string;
  /** The field's label; the copy button is "Copy <label in lower case>". */
  label: string;
  onClose: () => void;
  children?: ReactNode;
}) {
  return (
    <Dialog
      open={secret !== null}
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title={title}
      footer={
        <Button variant="primary" onClick={onClose}>
          Done
        </Button>
      }
    >
      <div className="space-y-4">
        <p className="flex items-start gap-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
          <Icon name="alert" className="mt-0.5 size-4 shrink-0" />
          <span>
            <strong>Copy it now: you will not see it again.</strong> The console does not keep it, and the server
            cannot show it again.
          </span>
        </p>
        <CopyField label={label} value={secret ?? ""} />
        {children}
      </div>
    </Dialog>
  );
}
