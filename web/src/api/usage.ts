/** What this account spent, by day, and today's quota. */
import type { Usage } from "@contract/api";
import { api, type CallOptions, callInit, readJson } from "./client";

export async function fetchUsage(range: { from?: string; to?: string } = {}, options?: CallOptions): Promise<Usage> {
  return readJson(await api.usage.$get({ query: range }, callInit(options)));
}
