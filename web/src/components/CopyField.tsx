/**
 * A read-only text field with a copy button ("Copy <label in lower case>"); the text is selected on focus, for
 * copying by hand where the clipboard is not available.
 *
 * ```tsx
 * <CopyField label="Invitation link" value={link} />
 * ```
 */
import type { ReactNode } from "react";
import { CopyButton } from "./CopyButton";
import { Field } from "./Field";
import { Input } from "./Input";

export function CopyField({ label, value, hint }: { label: string; value: string; hint?: ReactNode }) {
  return (
    <Field label={label} hint={hint}>
      {(p) => (
        <div className="flex gap-2">
          <Input
            {...p}
            readOnly
            value={value}
            className="font-mono text-xs"
            spellCheck={false}
            autoComplete="off"
            onFocus={(e) => e.currentTarget.select()}
          />
          <CopyButton value={value} label={label.toLowerCase()} withText />
        </div>
      )}
    </Field>
  );
}
