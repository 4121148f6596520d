/**
 * A dropdown menu on Radix (arrow keys, type-ahead, Escape, focus return).
 *
 * ```tsx
 * <Menu trigger={<Button>Actions</Button>} label="Agent actions">
 *   <MenuItem onSelect={edit}>Edit</MenuItem>
 *   <MenuSeparator />
 *   <MenuItem danger onSelect={remove}>Delete</MenuItem>
 * </Menu>
 * ```
 */
import * as DM from "@radix-ui/react-dropdown-menu";
import type { ReactNode } from "react";
import { cn } from "../lib/cn";

export function Menu({
  trigger,
  children,
  align = "end",
  label,
}: {
  trigger: ReactNode;
  children: ReactNode;
  align?: "start" | "center" | "end";
  label?: string;
}) {
  return (
    <DM.Root>
      <DM.Trigger asChild>{trigger}</DM.Trigger>
      <DM.Portal>
        <DM.Content
          align={align}
          sideOffset={6}
          aria-label={label}
          className="z-50 min-w-48 rounded-md border border-slate-200 bg-white p-1 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900"
        >
          {children}
        </DM.Content>
      </DM.Portal>
    </DM.Root>
  );
}

const itemClass =
  "flex cursor-default items-center gap-2 rounded px-2 py-1.5 outline-none select-none data-[disabled]:opacity-50 " +
  "data-[highlighted]:bg-slate-100 dark:data-[highlighted]:bg-slate-800";

export function MenuItem({
  children,
  onSelect,
  danger,
  disabled,
}: {
  children: ReactNode;
  onSelect?: () => void;
  danger?: boolean;
  disabled?: boolean;
}) {
  return (
    <DM.Item className={cn(itemClass, danger && "text-red-600 dark:text-red-400")} onSelect={onSelect} disabled={disabled}>
      {children}
    </DM.Item>
  );
}

export function MenuLabel({ children }: { children: ReactNode }) {
  return <DM.Label className="px-2 py-1.5 text-xs text-slate-500 dark:text-slate-400">{children}</DM.Label>;
}

export function MenuSeparator() {
  return <DM.Separator className="my-1 h-px bg-slate-200 dark:bg-slate-700" />;
}

export const MenuRadioGroup = DM.RadioGroup;

export function MenuRadioItem({ value, children }: { value: string; children: ReactNode }) {
  return (
    <DM.RadioItem value={value} className={cn(itemClass, "pl-7 relative")}>
      <DM.ItemIndicator className="absolute left-2">✓</DM.ItemIndicator>
      {children}
    </DM.RadioItem>
  );
}
