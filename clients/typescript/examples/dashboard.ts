// A small example that must type-check: every live-updates message handled, none forgotten.
import { createRestClient, openStream, type LiveUpdatesMessage } from "../src/index.js";

export function describe(message: LiveUpdatesMessage): string {
  switch (message.type) {
    case "connection_established":
      return `connected in epoch ${message.epoch}, ${message.open_alerts} open alerts`;
    case "metrics_update":
      return `day ${message.data.day}: revenue ${message.data.system_metrics.total_revenue ?? "n/a"}`;
    case "agent_intervention":
      return `${message.agent_id} ${message.action}: ${message.message}`;
    case "system_event":
      return `${message.event} (${message.severity}): ${message.message}`;
    case "error":
      return `the server did not understand: ${message.message}`;
    case "pong":
      return "pong";
    default: {
      const unhandled: never = message; // a new message type fails the build here
      return unhandled;
    }
  }
}

export async function main(baseUrl: string): Promise<void> {
  const rest = createRestClient({ baseUrl });
  const agents = await rest.getAgentsStatus();
  console.log(agents.map((a) => `${a.name}: ${a.status}`).join(", "));
  const live = openStream("live-updates", {
    baseUrl,
    onMessage: (message) => console.log(describe(message)),
    onGap: () => void rest.getAlertsActive().then((alerts) => console.log(`${alerts.length} open alerts`)),
  });
  setTimeout(() => live.close(), 10_000);
}
