import { referenceListQuery } from "../api/references";

export const PAGE_SIZE = 30;
export const FIRST_PAGE = { limit: PAGE_SIZE };

/** The route's preload: the first page, fetched while the page is on its way. */
export const preloadReferences = () => referenceListQuery.preload(FIRST_PAGE);
