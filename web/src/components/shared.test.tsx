/** Static markup of the shared list pieces (the test environment has no DOM). */
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ChoiceField } from "./ChoiceField";
import { LoadMore, type NextPageQuery } from "./LoadMore";
import { PagedList, type PagedQuery } from "./PagedList";

const paged = (over: Partial<PagedQuery>): PagedQuery => ({
  isPending: false,
  isError: false,
  hasNextPage: false,
  isFetchingNextPage: false,
  isFetchNextPageError: false,
  error: null,
  fetchNextPage: () => undefined,
  refetch: () => undefined,
  ...over,
});

describe("LoadMore", () => {
  it("names what it loads and hides without a next page", () => {
    const q: NextPageQuery = paged({ hasNextPage: true });
    expect(renderToStaticMarkup(<LoadMore query={q} what="members" />)).toContain("Load more members");
    expect(renderToStaticMarkup(<LoadMore query={q} />)).toContain(">Load more</button>");
    expect(renderToStaticMarkup(<LoadMore query={paged({})} />)).toBe("");
  });

  it("shows a failed next page", () => {
    const html = renderToStaticMarkup(<LoadMore query={paged({ hasNextPage: true, isFetchNextPageError: true, error: new Error("boom") })} />);
    expect(html).toContain('role="alert"');
    expect(html).toContain("boom");
  });
});

describe("PagedList", () => {
  const list = <ul aria-label="Things" />;

  it("shows skeletons, then the error of a failed first page, then the list", () => {
    expect(renderToStaticMarkup(<PagedList query={paged({ isPending: true })} count={0}>{list}</PagedList>)).toContain('aria-label="Loading"');
    const failed = renderToStaticMarkup(
      <PagedList query={paged({ isError: true, error: new Error("down") })} count={0} errorTitle="Cannot load the things">
        {list}
      </PagedList>,
    );
    expect(failed).toContain("Cannot load the things");
    expect(failed).toContain("Try again");
    expect(failed).not.toContain("Things");
    expect(renderToStaticMarkup(<PagedList query={paged({})} count={0}>{list}</PagedList>)).toContain('aria-label="Things"');
  });

  it("keeps the rows of a failed refresh or next page, with the error once", () => {
    const refresh = renderToStaticMarkup(<PagedList query={paged({ isError: true, error: new Error("stale") })} count={3}>{list}</PagedList>);
    expect(refresh).toContain('aria-label="Things"');
    expect(refresh.match(/role="alert"/g)).toHaveLength(1);
    const next = renderToStaticMarkup(
      <PagedList query={paged({ isError: true, isFetchNextPageError: true, hasNextPage: true, error: new Error("page 2") })} count={3}>
        {list}
      </PagedList>,
    );
    expect(next.match(/role="alert"/g)).toHaveLength(1);
    expect(next).toContain("Load more");
  });
});

describe("ChoiceField", () => {
  it("is a labelled select with the empty choice first", () => {
    const html = renderToStaticMarkup(
      <ChoiceField label="Level" none="Any level" value="" options={["low", "high"] as const} labelOf={(l) => l.toUpperCase()} onChange={() => undefined} />,
    );
    expect(html).toMatch(/<label for="([^"]+)"[^>]*>Level<\/label><select[^>]*id="\1"/);
    expect(html).toContain('<option value="" selected="">Any level</option><option value="low">LOW</option>');
  });
});
