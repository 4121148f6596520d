import { Link } from "react-router";
import { Page, PageHeader } from "../../components";

export function NotFoundPage() {
  return (
    <Page title="Not found">
      <PageHeader title="Page not found" description="There is nothing at this address." />
      <Link to="/" className="text-indigo-600 hover:underline dark:text-indigo-400">
        Go to the start page
      </Link>
    </Page>
  );
}
