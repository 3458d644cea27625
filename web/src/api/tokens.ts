/** API tokens for scripts: create (the secret is shown once), list, revoke. */

import type { ApiTokenPage, CreatedApiToken } from "@contract/api";
import { api, done, idParam, readJson } from "./client";

export async function listTokens(): Promise<ApiTokenPage> {
  return readJson(await api.tokens.$get());
}

export async function createToken(name: string): Promise<CreatedApiToken> {
  return readJson(await api.tokens.$post({ json: { name } }));
}

/** The token stops working at once. */
export async function revokeToken(id: string): Promise<void> {
  await done(await api.tokens[":id"].$delete({ param: idParam(id) }));
}
