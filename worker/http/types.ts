import type { User } from "@contract/api";
import type { Database } from "../db/client";
import type { AppConfig } from "../lib/config";

/** What every request handler can read from the Hono context. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    db: Database;
    config: AppConfig;
    user: User;
    authMethod: "cookie" | "bearer";
  };
};
