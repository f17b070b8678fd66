import {
  createRestClient,
  openStream,
  type AgentStatus,
  type StateChange,
  type SystemMetrics,
} from "@autoops/client";
import { useCallback, useEffect, useMemo, useState } from "react";

const KPIS: [keyof SystemMetrics, string][] = [
  ["total_revenue", "Revenue"],
  ["total_profit", "Profit"],
  ["inventory_turnover", "Inventory turnover"],
  ["stockout_incidents", "Stockouts (7 days)"],
  ["waste_reduction_percentage", "Waste reduction %"],
  ["price_optimization_score", "Price optimisation"],
  ["promotion_effectiveness", "Promotion effectiveness"],
  ["agent_collaboration_score", "Agent collaboration"],
  ["decision_count", "Decisions"],
  ["response_time_avg", "Mean decide() seconds"],
];

function figure(value: number | null): string {
  if (value === null) return "not known yet";
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 4 : 2);
}

function badgeText(change: StateChange | null): string {
  if (!change || change.state === "connecting") return "connecting";
  if (change.state === "open") return "live";
  if (change.state === "reconnecting") {
    return `reconnecting in ${((change.delayMs ?? 0) / 1000).toFixed(1)} s (attempt ${change.attempt})`;
  }
  return `closed${change.code ? ` (${change.code}: ${change.reason})` : ""}`;
}

export function App({ baseUrl }: { baseUrl: string }) {
  const rest = useMemo(() => createRestClient({ baseUrl }), [baseUrl]);
  const [metrics, setMetrics] = useState<SystemMetrics | null>(null);
  const [agents, setAgents] = useState<AgentStatus[]>([]);
  const [connection, setConnection] = useState<StateChange | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const reloadAgents = useCallback(() => {
    rest.getAgentsStatus().then(setAgents, (err: Error) => setProblem(err.message));
  }, [rest]);

  useEffect(() => {
    reloadAgents();
    // KPIs from the 2 s stream; agents and the connection badge from live-updates
    const kpis = openStream("metrics/real-time", {
      baseUrl,
      onMessage: (m) => {
        if (m.type === "metrics_stream" || m.type === "metrics_update") setMetrics(m.data);
      },
    });
    const live = openStream("live-updates", {
      baseUrl,
      onState: setConnection,
      onGap: reloadAgents,
      onMessage: (m) => {
        if (m.type === "metrics_update") setAgents(m.data.agent_statuses);
        if (m.type === "agent_intervention" || m.type === "connection_established") reloadAgents();
      },
    });
    return () => {
      kpis.close();
      live.close();
    };
  }, [baseUrl, reloadAgents]);

  const intervene = async (agentId: string, action: "pause" | "resume") => {
    try {
      await rest.postAgentIntervention(agentId, { action, reason: `${action} from the React example` });
      setProblem(null);
      reloadAgents();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  return (
    <main style={{ fontFamily: "system-ui, sans-serif", margin: "1.5rem" }}>
      <header style={{ display: "flex", gap: "1rem", alignItems: "center" }}>
        <h1 style={{ margin: 0 }}>AutoOps Retail</h1>
        <span data-testid="connection" data-state={connection?.state ?? "connecting"}>
          {badgeText(connection)}
        </span>
      </header>
      {problem && <p role="alert">{problem}</p>}
      <section style={{ display: "grid", gridTemplateColumns: "repeat(5, 1fr)", gap: "0.75rem" }}>
        {KPIS.map(([key, label]) => (
          <div key={key} data-testid={`kpi-${key}`} style={{ border: "1px solid #ccc", padding: "0.5rem" }}>
            <div style={{ fontSize: "0.8rem" }}>{label}</div>
            <strong data-testid="value">{metrics ? figure(metrics[key]) : "…"}</strong>
          </div>
        ))}
      </section>
      <section style={{ display: "flex", gap: "1rem", marginTop: "1rem" }}>
        {agents.map((agent) => (
          <article key={agent.agent_id} data-testid={`agent-${agent.agent_id}`} style={{ border: "1px solid #ccc", padding: "0.75rem" }}>
            <h2 style={{ margin: 0, fontSize: "1.1rem" }}>{agent.name}</h2>
            <p data-testid="status">{agent.status}</p>
            <p>{agent.current_activity}</p>
            <button onClick={() => intervene(agent.agent_id, "pause")} disabled={agent.status === "paused"}>
              Pause
            </button>{" "}
            <button onClick={() => intervene(agent.agent_id, "resume")} disabled={agent.status !== "paused"}>
              Resume
            </button>
          </article>
        ))}
      </section>
    </main>
  );
}
