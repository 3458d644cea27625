/**
 * Every /api/* request of the Pages site goes to the API Worker through the `API` service binding:
 * the same request (method, headers, cookie, body, a WebSocket upgrade), the Worker's answer
 * unchanged. The browser only ever talks to this one origin.
 */
export const onRequest: PagesFunction<PagesEnv> = (context) => context.env.API.fetch(context.request);
