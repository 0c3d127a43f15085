/** One page of a list: its items and the cursor of the next page (null on the last). */
export interface CursorPage<Item> {
  items: Item[];
  nextCursor?: string | null;
}

/** Reads the page after `cursor` (the first page when undefined). */
export type PageReader<Item> = (cursor: string | undefined) => Promise<CursorPage<Item>>;

/** Every page of a cursor-paged list, read one at a time as the caller iterates. */
export async function* pages<Item>(read: PageReader<Item>): AsyncGenerator<CursorPage<Item>, void, undefined> {
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await read(cursor);
    yield page;
    const next = page.nextCursor ?? undefined;
    if (next === undefined || next === '') return;
    // A server answering a cursor it answered before would make this loop for good.
    if (seen.has(next)) throw new Error(`the list answered cursor ${next} twice`);
    seen.add(next);
    cursor = next;
  }
}

/** Every item of a cursor-paged list, in the server's order, fetching pages as the caller iterates. */
export async function* items<Item>(read: PageReader<Item>): AsyncGenerator<Item, void, undefined> {
  for await (const page of pages(read)) yield* page.items;
}
