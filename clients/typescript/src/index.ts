// The AutoOps Retail API for TypeScript: REST calls and stream subscriptions, typed from the
// published contract (contract/openapi.json and contract/ws-messages.schema.json).
export * from "./rest.js";
export * from "./stream.js";
export type * from "./generated/ws.js";
