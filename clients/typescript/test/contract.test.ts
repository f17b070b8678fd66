// The published AsyncAPI document, read by the AsyncAPI initiative's own parser: no error, no warning.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";

import { Parser } from "@asyncapi/parser";

const DOCUMENT = resolve(import.meta.dirname, "../../../../contract/asyncapi.json");

test("contract/asyncapi.json is a valid AsyncAPI 3.0 document", async () => {
  const { document, diagnostics } = await new Parser().parse(readFileSync(DOCUMENT, "utf8"));
  const problems = diagnostics.filter((d) => d.severity <= 1); // 0 error, 1 warning
  assert.deepEqual(problems.map((d) => `${d.code}: ${d.message} at ${d.path.join("/")}`), []);
  assert.ok(document);
  assert.deepEqual(document.channels().all().map((c) => c.address()).sort(), [
    "/agents/{agent_id}/status",
    "/live-updates",
    "/metrics/real-time",
  ]);
  const live = document.channels().get("liveUpdates")!;
  assert.ok(live.messages().all().some((m) => m.name() === "LiveMetricsUpdate"));
});
