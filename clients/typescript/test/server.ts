// A real backend for the tests: uvicorn on a free port, its own SQLite file, a fast clock.
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, openSync } from "node:fs";
import { createServer, type Server as NetServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../../..");

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

export class Backend {
  readonly home = mkdtempSync(join(tmpdir(), "autoops-ts-"));
  private proc: ChildProcess | null = null;
  port = 0;

  constructor(private readonly env: Record<string, string> = {}) {}

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Start (or start again on the same port, with the same database). */
  async start(): Promise<this> {
    this.port ||= await freePort();
    const log = openSync(join(this.home, "server.log"), "a");
    this.proc = spawn(
      process.env.PYTHON ?? "python3",
      ["-m", "uvicorn", "backend.api.app:create_app", "--factory", "--host", "127.0.0.1",
       "--port", String(this.port), "--no-access-log", "--ws-per-message-deflate", "false"],
      {
        cwd: ROOT,
        stdio: ["ignore", log, log],
        env: {
          ...process.env,
          DATABASE_URL: `sqlite:///${join(this.home, "autoops.db")}`,
          AUTOOPS_LOG_DIR: join(this.home, "logs"),
          AUTOOPS_DAY_SECONDS: "0.2",
          AUTOOPS_SKUS: "20",
          AUTOOPS_LIVE_INTERVAL: "0.5",
          AUTOOPS_AGENT_INTERVAL: "0.5",
          AUTOOPS_METRICS_INTERVAL: "0.5",
          ...this.env,
        },
      },
    );
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`uvicorn exited with ${this.proc.exitCode}`);
      try {
        if ((await fetch(`${this.http}/readyz`)).ok) return this;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error("uvicorn did not become ready in 60 s");
  }

  /** SIGKILL: no shutdown code runs, clients see the connection drop (1006). */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((done) => proc.once("exit", done));
    proc.kill("SIGKILL");
    await exited;
    this.proc = null;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((done) => proc.once("exit", done));
    proc.kill("SIGTERM");
    await exited;
    this.proc = null;
  }
}

/** A TCP relay in front of the backend whose connections the test can cut (a dropped network). */
export class Relay {
  private readonly sockets = new Set<Socket>();
  private server: NetServer | null = null;
  port = 0;

  constructor(private readonly target: number) {}

  async start(): Promise<this> {
    this.port ||= await freePort();
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((done) => this.server!.listen(this.port, "127.0.0.1", done));
    return this;
  }

  /** Drop every connection and refuse new ones until `start` again. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((done) => this.server?.close(done));
    this.server = null;
  }

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export async function waitFor<T>(probe: () => T | undefined | null | false, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** An HS256 JWT as the backend's `python -m backend.auth mint` makes. */
export function mintToken(secret: string, role: string, ttlSeconds = 600): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "ts-client", role, iat: now, exp: now + ttlSeconds })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}
