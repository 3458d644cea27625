/** A fixed Standard Webhooks secret shared by the emulator and the Worker under test. */
export const TEST_WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5";
export const TEST_PUBLIC_URL = "https://studio.test";
