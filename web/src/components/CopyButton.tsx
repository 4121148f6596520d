/**
 * Copies `value` to the clipboard. `label` names what is copied: the accessible name is "Copy <label>".
 * An icon button by default; `withText` shows "Copy"/"Copied". Success and failure are announced by toast.
 *
 * ```tsx
 * <CopyButton value={org.id} label="organisation id" />
 * <CopyButton value={link} label="invitation link" withText />
 * ```
 */
import { useState } from "react";
import { toast } from "../lib/toast";
import { Button, IconButton } from "./Button";

export function CopyButton({ value, label, withText = false }: { value: string; label: string; withText?: boolean }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    navigator.clipboard.writeText(value).then(
      () => {
        setCopied(true);
        toast.success("Copied to the clipboard.");
        setTimeout(() => setCopied(false), 1500);
      },
      () => toast.error(new Error("Cannot use the clipboard here; select the text and copy it by hand.")),
    );
  };
  if (withText) {
    return (
      <Button icon={copied ? "check" : "copy"} onClick={copy} aria-label={`Copy ${label}`}>
        {copied ? "Copied" : "Copy"}
      </Button>
    );
  }
  return <IconButton icon={copied ? "check" : "copy"} label={`Copy ${label}`} onClick={copy} />;
}
