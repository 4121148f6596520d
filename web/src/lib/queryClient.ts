/** The app's one TanStack Query client. Problems with a 4xx status are not retried (they will not change). */
import { QueryClient } from "@tanstack/react-query";
import { ApiProblem } from "../api/problem";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => {
        if (error instanceof ApiProblem && error.status >= 400 && error.status < 500) return false;
        return count < 2;
      },
    },
    mutations: { retry: false },
  },
});
