// The package against a real backend (uvicorn on a free port): REST, reconnect, resume, 4004, bearer.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  ApiError,
  createRestClient,
  openStream,
  type Gap,
  type LiveUpdatesMessage,
  type StateChange,
} from "../src/index.js";
import { Backend, mintToken, Relay, sleep, waitFor } from "./server.js";

const FAST = { initialDelayMs: 200, maxDelayMs: 1000 };

describe("against a backend with auth off", () => {
  const backend = new Backend();
  before(() => backend.start());
  after(() => backend.stop());

  test("REST calls are typed and an intervention shows in the agents' status", async () => {
    const rest = createRestClient({ baseUrl: backend.http });
    const agents = await rest.getAgentsStatus();
    assert.deepEqual(agents.map((a) => a.agent_id).sort(), ["inventory_agent", "pricing_agent", "promotion_agent"]);
    const done = await rest.postAgentIntervention("inventory_agent", { action: "pause", reason: "ts test" });
    assert.equal(done.success, true);
    const paused = (await rest.getAgentsStatus()).find((a) => a.agent_id === "inventory_agent");
    assert.equal(paused?.status, "paused");
    await rest.postAgentIntervention("inventory_agent", { action: "resume", reason: "ts test" });
    await assert.rejects(rest.getDecisionsRecent({ limit: 501 }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 422);
      assert.equal(err.body?.error, "ValidationError");
      return true;
    });
  });

  test("an unknown agent's 4004 reaches the caller and is not retried", async () => {
    const states: StateChange[] = [];
    openStream("agents/cashier_agent/status", { baseUrl: backend.http, onMessage: () => {}, onState: (s) => states.push(s), ...FAST });
    const closed = await waitFor(() => states.find((s) => s.state === "closed"), "the 4004 close");
    assert.equal(closed.code, 4004);
    assert.match(closed.reason ?? "", /unknown agent 'cashier_agent'/);
    await sleep(800);
    assert.equal(states.filter((s) => s.state === "reconnecting").length, 0);
  });

  test("after a dropped connection the stream resumes with nothing missed", async () => {
    const relay = await new Relay(backend.port).start();
    const rest = createRestClient({ baseUrl: backend.http });
    const got: LiveUpdatesMessage[] = [];
    const gaps: Gap[] = [];
    const states: StateChange[] = [];
    const live = openStream("live-updates", {
      baseUrl: relay.http,
      onMessage: (m) => got.push(m),
      onGap: (g) => gaps.push(g),
      onState: (s) => states.push(s),
      ...FAST,
    });
    await waitFor(() => got.some((m) => m.type === "system_event"), "a first event");
    await relay.cut();
    await waitFor(() => live.state === "reconnecting", "the drop to be seen");
    const made = await rest.postAgentIntervention("promotion_agent", { action: "pause", reason: "while away" });
    await sleep(1000); // store days go by while the client is away
    await relay.start();
    await waitFor(() => got.some((m) => m.type === "agent_intervention" && m.intervention_id === made.intervention_id), "the missed intervention");
    live.close();
    await relay.cut();
    await rest.postAgentIntervention("promotion_agent", { action: "resume", reason: "done" });

    const greetings = got.filter((m) => m.type === "connection_established");
    assert.equal(greetings.length, 2);
    assert.equal(greetings[1].recovered, true);
    assert.deepEqual(gaps, []);
    const offsets = got.flatMap((m) => (m.type === "agent_intervention" || m.type === "system_event" ? [m.offset] : []));
    const first = offsets[0];
    assert.deepEqual(offsets, offsets.map((_, i) => first + i), "every event once, in order");
    assert.ok(states.some((s) => s.state === "reconnecting" && s.code === 1006));
  });
});

describe("a backend that is killed and started again", () => {
  const backend = new Backend();
  before(() => backend.start());
  after(() => backend.stop());

  test("the client reconnects by itself and is told the run changed", async () => {
    const got: LiveUpdatesMessage[] = [];
    const gaps: Gap[] = [];
    const states: StateChange[] = [];
    const live = openStream("live-updates", {
      baseUrl: backend.http,
      onMessage: (m) => got.push(m),
      onGap: (g) => gaps.push(g),
      onState: (s) => states.push(s),
      ...FAST,
    });
    await waitFor(() => live.state === "open", "the first connection");
    const epoch = live.cursor!.epoch;
    await backend.kill();
    await waitFor(() => states.filter((s) => s.state === "reconnecting").length >= 2, "failed attempts while down");
    const delays = states.filter((s) => s.state === "reconnecting").map((s) => s.delayMs!);
    assert.ok(delays[1] > delays[0] * 1.2, `the delay grows: ${delays}`);
    await backend.start();
    await waitFor(() => live.cursor && live.cursor.epoch === epoch + 1, "the new run's greeting");
    assert.equal(live.state, "open");
    assert.equal(gaps.length, 1);
    assert.equal(gaps[0].reason, "not-recovered");
    live.close();
  });
});

describe("a backend with auth on", () => {
  const secret = "ts-client-secret-long-enough-for-hs256";
  const backend = new Backend({ AUTOOPS_AUTH: "jwt", AUTOOPS_JWT_SECRET: secret });
  before(() => backend.start());
  after(() => backend.stop());

  test("a bearer token is accepted on REST and on the stream subprotocol", async () => {
    const token = mintToken(secret, "viewer");
    const rest = createRestClient({ baseUrl: backend.http, getToken: () => token });
    assert.equal((await rest.getAgentsStatus()).length, 3);
    await assert.rejects(createRestClient({ baseUrl: backend.http }).getAgentsStatus(), (err: unknown) => err instanceof ApiError && err.status === 401);
    const got: string[] = [];
    const live = openStream("metrics/real-time", { baseUrl: backend.http, getToken: () => token, onMessage: (m) => got.push(m.type) });
    await waitFor(() => got.includes("metrics_update"), "a metrics update");
    live.close();
    assert.equal(got[0], "metrics_stream");
    const states: StateChange[] = [];
    openStream("metrics/real-time", { baseUrl: backend.http, onMessage: () => {}, onState: (s) => states.push(s) });
    const refused = await waitFor(() => states.find((s) => s.state === "closed"), "the refusal");
    assert.equal(refused.code, 1008);
  });
});
