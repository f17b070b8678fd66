// REST calls of the AutoOps Retail API, typed from contract/openapi.json (src/generated/rest.ts).
import type { components, paths } from "./generated/rest.js";

export type Schemas = components["schemas"];
export type ErrorBody = Schemas["ErrorBody"];
export type ValidationErrorBody = Schemas["ValidationErrorBody"];
export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

type Method = "get" | "post";
/** The 200 body of an operation, as the document declares it. */
export type Ok<P extends keyof paths, M extends Method> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer T } } };
}
  ? T
  : never;

/** A non-2xx answer: the status and the server's `{error, detail[, errors]}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | ValidationErrorBody | null,
  ) {
    super(body ? `${status} ${body.error}: ${body.detail}` : `HTTP ${status}`);
    this.name = "ApiError";
  }
}

export interface RestOptions {
  /** e.g. http://localhost:8000 */
  baseUrl: string;
  /** the JWT when the server runs with AUTOOPS_AUTH=jwt; asked before every call */
  getToken?: TokenSource;
  fetch?: typeof fetch;
}

export type InterventionRequest = Schemas["InterventionRequest"];
type Query = Record<string, string | number | undefined>;

export function createRestClient(options: RestOptions) {
  const base = options.baseUrl.replace(/\/$/, "");
  const doFetch = options.fetch ?? fetch;

  async function call<T>(method: "GET" | "POST", path: string, query?: Query, body?: unknown): Promise<T> {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    const token = await options.getToken?.();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await doFetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, parsed as ErrorBody | null);
    return parsed as T;
  }

  const dashboard = "/api/dashboard";
  return {
    getAgentsStatus: () =>
      call<Ok<"/api/dashboard/agents/status", "get">>("GET", `${dashboard}/agents/status`),
    getMetricsCurrent: () =>
      call<Ok<"/api/dashboard/metrics/current", "get">>("GET", `${dashboard}/metrics/current`),
    getDecisionsRecent: (query: { limit?: number; agent_id?: string } = {}) =>
      call<Ok<"/api/dashboard/decisions/recent", "get">>("GET", `${dashboard}/decisions/recent`, query),
    getAlertsActive: () =>
      call<Ok<"/api/dashboard/alerts/active", "get">>("GET", `${dashboard}/alerts/active`),
    postAgentIntervention: (agentId: string, body: InterventionRequest) =>
      call<Ok<"/api/dashboard/agents/{agent_id}/intervention", "post">>(
        "POST",
        `${dashboard}/agents/${encodeURIComponent(agentId)}/intervention`,
        undefined,
        body,
      ),
    getMetricsHistory: (query: { since?: string; limit?: number } = {}) =>
      call<Ok<"/api/dashboard/metrics/history", "get">>("GET", `${dashboard}/metrics/history`, query),
    getStoreSkus: () => call<Ok<"/api/dashboard/store/skus", "get">>("GET", `${dashboard}/store/skus`),
    getInterventions: (query: { limit?: number; agent_id?: string } = {}) =>
      call<Ok<"/api/dashboard/interventions", "get">>("GET", `${dashboard}/interventions`, query),
    postAlertAcknowledge: (alertId: string) =>
      call<Ok<"/api/dashboard/alerts/{alert_id}/acknowledge", "post">>(
        "POST",
        `${dashboard}/alerts/${encodeURIComponent(alertId)}/acknowledge`,
      ),
    postAlertResolve: (alertId: string) =>
      call<Ok<"/api/dashboard/alerts/{alert_id}/resolve", "post">>(
        "POST",
        `${dashboard}/alerts/${encodeURIComponent(alertId)}/resolve`,
      ),
    getReadyz: () => call<Ok<"/readyz", "get">>("GET", "/readyz"),
  };
}

export type RestClient = ReturnType<typeof createRestClient>;
