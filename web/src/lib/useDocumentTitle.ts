import { useEffect } from "react";

/** Sets `document.title` to "<title> · secops" while the component is mounted. */
export function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · secops` : "secops";
  }, [title]);
}
