import { DurableObject } from "cloudflare:workers";
export class SessionRoom extends DurableObject<Env> { async hi() { return "hi"; } }
export default { async fetch() { return new Response("ok"); } } satisfies ExportedHandler<Env>;
