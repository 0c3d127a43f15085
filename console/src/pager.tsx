/**
 * Previous and next page buttons over a cursor-paged list: `cursors` are those of the pages seen so
 * far (the first page has none), so "Previous" goes back without the API keeping state.
 */
export function Pager({ cursors, nextCursor, setCursors }: {
  cursors: readonly (string | undefined)[];
  nextCursor: string | null;
  setCursors: (cursors: readonly (string | undefined)[]) => void;
}) {
  return (
    <div className="pager">
      <button type="button" disabled={cursors.length === 1} onClick={() => { setCursors(cursors.slice(0, -1)); }}>Previous page</button>
      <button type="button" disabled={nextCursor === null} onClick={() => { if (nextCursor !== null) setCursors([...cursors, nextCursor]); }}>Next page</button>
    </div>
  );
}
