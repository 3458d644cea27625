import { trashListQuery } from "../api/trash";

export const TRASH_PAGE_SIZE = 30;
export const FIRST_TRASH_PAGE = { limit: TRASH_PAGE_SIZE };

/** The route's preload: the first page, fetched while the page is on its way. */
export const preloadTrash = () => trashListQuery.preload(FIRST_TRASH_PAGE);
