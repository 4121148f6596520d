/**
 * The toast queue (UI state). `toast.success("Saved")`, `toast.error(problem)` from anywhere; `<Toaster />`
 * in components/Toast.tsx renders them.
 */
import { create } from "zustand";
import { ApiProblem, describeError } from "../api/problem";

export type ToastTone = "info" | "success" | "error";

export interface ToastItem {
  id: number;
  tone: ToastTone;
  message: string;
  code?: string;
}

interface ToastState {
  items: ToastItem[];
  push: (t: Omit<ToastItem, "id">) => void;
  dismiss: (id: number) => void;
}

let nextId = 1;

export const useToasts = create<ToastState>()((set) => ({
  items: [],
  push: (t) => {
    const id = nextId++;
    set((s) => ({ items: [...s.items.slice(-4), { ...t, id }] }));
    setTimeout(() => set((s) => ({ items: s.items.filter((i) => i.id !== id) })), t.tone === "error" ? 10_000 : 5_000);
  },
  dismiss: (id) => set((s) => ({ items: s.items.filter((i) => i.id !== id) })),
}));

export const toast = {
  info: (message: string) => useToasts.getState().push({ tone: "info", message }),
  success: (message: string) => useToasts.getState().push({ tone: "success", message }),
  error: (error: unknown) =>
    useToasts.getState().push({
      tone: "error",
      message: describeError(error),
      ...(error instanceof ApiProblem ? { code: error.code } : {}),
    }),
};
