/**
 * Cursor pagination with "Previous": the API pages forward only (`nextCursor`), so the console
 * remembers the cursors of the pages it came through. Immutable: each move returns a new state.
 */
export interface PageState {
  /** The cursor of the current page (undefined: the first page). */
  cursor: string | undefined;
  /** The cursors of the pages before it, oldest first. */
  back: Array<string | undefined>;
}

export const FIRST_PAGE: PageState = { cursor: undefined, back: [] };

export function nextPage(state: PageState, nextCursor: string): PageState {
  return { cursor: nextCursor, back: [...state.back, state.cursor] };
}

export function previousPage(state: PageState): PageState {
  if (state.back.length === 0) return state;
  return { cursor: state.back[state.back.length - 1], back: state.back.slice(0, -1) };
}

export function hasPrevious(state: PageState): boolean {
  return state.back.length > 0;
}

/** 1-based number of the current page. */
export function pageNumber(state: PageState): number {
  return state.back.length + 1;
}
