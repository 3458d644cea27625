/**
 * Configuration read from the environment (wrangler vars and secrets, `.dev.vars` locally). The
 * names are fixed by the public contract; every value is optional and has a safe default.
 */
export const DEFAULT_REPLICATE_BASE_URL = "https://api.replicate.com/v1";
export const DEFAULT_OUTPUT_HOSTS = "replicate.delivery,*.replicate.delivery";

export type AppConfig = {
  replicateToken: string;
  replicateBaseUrl: string;
  webhookSecret: string | null;
  outputHosts: string[];
  publicUrl: string | null;
  passwordPepper: string;
};

const text = (value: unknown): string => (typeof value === "string" ? value.trim() : "");

export function readConfig(env: Env): AppConfig {
  return {
    replicateToken: text(env.REPLICATE_API_TOKEN),
    replicateBaseUrl: (text(env.REPLICATE_BASE_URL) || DEFAULT_REPLICATE_BASE_URL).replace(/\/+$/, ""),
    webhookSecret: text(env.REPLICATE_WEBHOOK_SECRET) || null,
    outputHosts: (text(env.REPLICATE_OUTPUT_HOSTS) || DEFAULT_OUTPUT_HOSTS)
      .split(",")
      .map((host) => host.trim().toLowerCase())
      .filter(Boolean),
    publicUrl: text(env.PUBLIC_URL).replace(/\/+$/, "") || null,
    passwordPepper: text(env.PASSWORD_PEPPER),
  };
}
