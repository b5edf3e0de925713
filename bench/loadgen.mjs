// Load generator for bench/run.py: N receivers in one room, one sender; burst, rate and ack phases.
// Speaks Parley's Socket.IO protocol ("socketio" mode, also used for the python-socketio baseline)
// or raw websocket text frames ("ws" mode, for the bare websockets baseline). In socketio mode the
// receivers are the official socket.io-client, or with `lean: true` a minimal client of the same
// protocol (Engine.IO 4 / Socket.IO 5 over a websocket) that finds the timestamp without decoding
// the whole packet: on one core, socket.io-client's ~30 µs per delivery otherwise dominates latency.
// Every loop is bounded in count and time; it only connects to the URL it is given (127.0.0.1).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const require = createRequire(new URL("../widget/package.json", import.meta.url));
const { io } = require("socket.io-client");
const WebSocket = require("ws");

const cfg = JSON.parse(process.argv[2]);
const CLK_TCK = 100; // /proc/<pid>/stat ticks per second on Linux
// Several server processes (bench/cluster.py): receiver i connects to urls[i % n]; CPU and RSS are summed.
const urls = cfg.urls || [cfg.url];
const serverPids = cfg.serverPids || [cfg.serverPid];
const serverCpu = () => serverPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
const serverRss = () => serverPids.reduce((sum, pid) => sum + rssBytes(pid), 0);

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}
function rssBytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line.split(/\s+/)[1]) * 1024;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null };
}

// --- receivers -------------------------------------------------------------------------------
const state = { received: 0, latencies: null, drops: 0, phaseStart: 0, lastDelivery: 0 };

function onDelivery(sentAt) {
  const t = now();
  state.received += 1;
  state.lastDelivery = t;
  if (state.latencies) state.latencies.push(t - sentAt);
}

function connectSocketIo(user, role, index = 0) {
  return new Promise((resolve, reject) => {
    const socket = io(urls[index % urls.length], {
      transports: ["websocket"], forceNew: true, reconnection: false, timeout: 60_000,
      auth: { appId: cfg.appId, me: user },
    });
    const timer = setTimeout(() => reject(new Error(`connect timeout for ${user.id}`)), 120_000);
    socket.on("connect_error", (error) => { clearTimeout(timer); reject(error); });
    socket.on("connect", () => {
      socket.emit("conversation:join", { conversationId: cfg.conversationId, asGuest: role === "guest" }, (reply) => {
        clearTimeout(timer);
        if (reply && reply.error) reject(new Error(JSON.stringify(reply.error)));
        else resolve(socket);
      });
    });
    socket.on("disconnect", () => { state.drops += 1; });
    if (role === "guest") socket.on("message:new", (data) => onDelivery(Number(data.message.custom.t)));
  });
}

// The Socket.IO protocol by hand: open "0{...}", connect "40{auth}", join with ack id 1,
// answer pings ("2") with pongs ("3"), and read "42["message:new",...]" frames.
function connectLean(user, index = 0, afterMessageId = null) {
  return new Promise((resolve, reject) => {
    const base = urls[index % urls.length];
    const url = base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket";
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.user = user;
    ws.index = index;
    ws.lastId = afterMessageId;
    ws.seen = new Set();
    const timer = setTimeout(() => fail(new Error(`connect timeout for ${user.id}`)), 120_000);
    let joined = false;
    const fail = (error) => { clearTimeout(timer); ws.failed = true; ws.terminate(); reject(error); };
    ws.on("error", fail);
    ws.on("close", () => { if (ws.failed) return; if (ws.onLost) ws.onLost(); else state.drops += 1; });
    ws.on("message", (raw) => {
      const text = raw.toString();
      if (text === "2") ws.send("3");
      else if (text.startsWith('42["message:new"')) {
        const at = text.indexOf('"t":"') + 5;
        onDelivery(Number(text.slice(at, text.indexOf('"', at))));
        const idAt = text.indexOf('"id":"') + 6;
        ws.lastId = text.slice(idAt, text.indexOf('"', idAt));
        ws.seen.add(ws.lastId);
      } else if (text[0] === "0") ws.send("40" + JSON.stringify({ appId: cfg.appId, me: user }));
      else if (text.startsWith("44")) fail(new Error(text));
      else if (text.startsWith("40")) {
        const join = { conversationId: cfg.conversationId, asGuest: true, ...(ws.lastId ? { afterMessageId: ws.lastId } : {}) };
        ws.send('421' + JSON.stringify(["conversation:join", join]));
      } else if (text.startsWith("431") && !joined) {
        joined = true;
        clearTimeout(timer);
        if (text.includes('"error"')) return fail(new Error(text));
        for (const match of text.matchAll(/"id":"(msg_[^"]*)"/g)) ws.seen.add(match[1]); // caught up (and repeats)
        resolve(ws);
      }
    });
  });
}

function connectWs(index) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(cfg.url.replace("http", "ws") + "/", { perMessageDeflate: false });
    ws.on("open", () => resolve(ws));
    ws.on("error", reject);
    ws.on("close", () => { state.drops += 1; });
    if (index >= 0) ws.on("message", (raw) => onDelivery(JSON.parse(raw).t));
  });
}

async function connectAll(n) {
  const clients = [];
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const user = { id: `guest-${i}`, name: `Guest ${i}` };
      if (cfg.mode === "ws") clients.push(await connectWs(i));
      else if (cfg.lean) clients.push(await connectLean(user, i));
      else clients.push(await connectSocketIo(user, "guest", i));
    }
  }
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, n) }, worker));
  return clients;
}

// --- sending -----------------------------------------------------------------------------------
let sendSeq = 0;
function sendOne(sender) {
  const t = now();
  const text = `message ${sendSeq++} ` + "x".repeat(cfg.padding);
  if (cfg.mode === "ws") {
    sender.send(JSON.stringify({ t, text }));
    return Promise.resolve(0);
  }
  return new Promise((resolve) => {
    sender.timeout(30_000).emit("message:send", { conversationId: cfg.conversationId, text, custom: { t: String(t) } }, (err, reply) => {
      if (err || (reply && reply.error)) state.sendErrors = (state.sendErrors || 0) + 1;
      resolve(now() - t);
    });
  });
}

async function waitForDeliveries(expected, timeoutMs) {
  const deadline = now() + timeoutMs;
  while (state.received < expected && now() < deadline) await sleep(20);
}

async function burstPhase(sender, n) {
  state.received = 0;
  state.latencies = [];
  const cpu0 = serverCpu();
  const start = now();
  const acks = [];
  for (let i = 0; i < cfg.burst; i++) acks.push(sendOne(sender));
  await Promise.all(acks);
  const expected = n * cfg.burst;
  await waitForDeliveries(expected, cfg.drainTimeoutMs);
  const elapsed = (state.lastDelivery - start) / 1000;
  const cpu = serverCpu() - cpu0;
  const result = {
    messages: cfg.burst, expected, delivered: state.received, lost: expected - state.received,
    seconds: elapsed, deliveriesPerSecond: state.received / elapsed,
    serverCpuSeconds: cpu, cpuSecondsPer1000: (cpu / Math.max(1, state.received)) * 1000,
    latencyMs: summary(state.latencies),
  };
  state.latencies = null;
  return result;
}

async function ratePhase(sender, n) {
  state.received = 0;
  state.latencies = [];
  const total = Math.round(cfg.rate * cfg.rateSeconds);
  const interval = 1000 / cfg.rate;
  const start = now();
  const cpu0 = serverCpu();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    if (due > now()) await sleep(due - now());
    sendOne(sender);
  }
  await waitForDeliveries(n * total, cfg.drainTimeoutMs);
  const cpu = serverCpu() - cpu0;
  const result = { rate: cfg.rate, messages: total, expected: n * total, delivered: state.received, lost: n * total - state.received, serverCpuSeconds: cpu, latencyMs: summary(state.latencies) };
  state.latencies = null;
  return result;
}

async function ackPhase(sender) {
  const total = Math.round(cfg.ackRate * cfg.ackSeconds);
  const interval = 1000 / cfg.ackRate;
  const start = now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    if (due > now()) await sleep(due - now());
    pending.push(sendOne(sender));
  }
  return { rate: cfg.ackRate, messages: total, ackMs: summary(await Promise.all(pending)) };
}

// --- a stalled visitor ---------------------------------------------------------------------
// A guest that stops reading, then asks for catch-up pages (each up to 512 KiB) it will never read, while
// the room's rate phase runs again: the server must drop it at its cap, and the others keep their latency.
function connectStalled() {
  return new Promise((resolve, reject) => {
    const url = cfg.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket";
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => reject(new Error("stalled visitor: connect timeout")), 30_000);
    ws.on("error", reject);
    ws.on("message", (raw) => {
      const text = raw.toString();
      if (text === "2") ws.send("3");
      else if (text[0] === "0") ws.send("40" + JSON.stringify({ appId: cfg.appId, me: { id: "stalled", name: "Stalled" } }));
      else if (text.startsWith("40")) ws.send('421' + JSON.stringify(["conversation:join", { conversationId: cfg.stall.conversationId, asGuest: true }]));
      else if (text.startsWith("431")) { clearTimeout(timer); resolve(ws); }
    });
  });
}

async function serverRealtime() {
  return (await (await fetch(`${cfg.url}/healthz`)).json()).realtime;
}

async function stallPhase(sender, n) {
  const before = await serverRealtime();
  const rss0 = serverRss();
  const ws = await connectStalled();
  let closedAt = null;
  ws.on("close", () => { closedAt = now(); });
  ws.pause(); // reads nothing from here on: the kernel's buffers fill, then the server's
  const started = now();
  for (let i = 0; i < cfg.stall.requests; i++) {
    ws.send(`42${i + 2}` + JSON.stringify(["conversation:join", { conversationId: cfg.stall.conversationId, asGuest: true, afterMessageId: cfg.stall.afterMessageId }]));
  }
  const rate = await ratePhase(sender, n);
  ws.resume(); // let the close reach us, if the server dropped it
  await sleep(500);
  const after = await serverRealtime();
  const result = {
    requests: cfg.stall.requests, droppedAtCap: (after.dropped_slow || 0) - (before.dropped_slow || 0),
    droppedAfterSeconds: closedAt === null ? null : (closedAt - started) / 1000,
    serverRssGrowthBytes: serverRss() - rss0, othersLost: rate.lost, othersLatencyMs: rate.latencyMs,
  };
  ws.terminate();
  return result;
}

// --- a reconnect storm (bench/cluster.py) ------------------------------------------------------
// kill -9 one process; its guests reconnect to the survivor (as behind the proxy) and join with
// afterMessageId; meanwhile messages go on. Time until all are back, and until all hold every message.
function sendForId(sender, text) {
  return new Promise((resolve) => {
    sender.timeout(30_000).emit("message:send", { conversationId: cfg.conversationId, text, custom: { t: String(now()) } }, (err, reply) => {
      resolve(err || !reply || reply.error ? null : reply.message.id);
    });
  });
}

async function stormPhase(sender, receivers) {
  const victims = receivers.filter((ws) => ws.index % urls.length === cfg.storm.victim);
  let back = 0;
  let backAt = null;
  const refusals = {};
  const killedAt = now();
  for (const ws of victims) {
    ws.onLost = async () => {
      // socket.io-client's reconnection: 1 s, doubling up to 5 s, each ±50%
      await sleep(1000 * (0.5 + Math.random()));
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          const again = await connectLean(ws.user, 0, ws.lastId); // the survivor
          for (const id of ws.seen) again.seen.add(id);
          receivers[receivers.indexOf(ws)] = again;
          back += 1;
          if (back === victims.length) backAt = now();
          return;
        } catch (error) {
          const why = String(error.message || error).slice(0, 80);
          refusals[why] = (refusals[why] || 0) + 1;
          await sleep(Math.min(5000, 1000 * 2 ** attempt) * (0.5 + Math.random()));
        }
      }
    };
  }
  process.kill(cfg.storm.victimPid, "SIGKILL");
  const ids = [];
  for (let i = 0; i < cfg.storm.messages; i++) {
    const id = await sendForId(sender, `storm ${i}`);
    if (id) ids.push(id);
    await sleep(1000 / cfg.storm.rate);
  }
  const deadline = now() + (cfg.storm.timeoutMs || 120_000);
  const complete = () => receivers.every((ws) => ids.every((id) => ws.seen.has(id)));
  while ((back < victims.length || !complete()) && now() < deadline) await sleep(50);
  const caughtUpAt = complete() ? now() : null;
  const missing = receivers.reduce((sum, ws) => sum + ids.filter((id) => !ws.seen.has(id)).length, 0);
  return { victims: victims.length, back, messages: ids.length, missing, refusals,
           allBackSeconds: backAt === null ? null : (backAt - killedAt) / 1000,
           allCaughtUpSeconds: caughtUpAt === null ? null : (caughtUpAt - killedAt) / 1000 };
}

async function main() {
  const out = { mode: cfg.mode, lean: !!cfg.lean, clients: cfg.clients };
  const rss0 = serverRss();
  const t0 = now();
  const connectCpu0 = serverCpu();
  const receivers = await connectAll(cfg.clients);
  out.connectSeconds = (now() - t0) / 1000;
  out.connectServerCpuSeconds = serverCpu() - connectCpu0;
  const sender = cfg.mode === "ws" ? await connectWs(-1) : await connectSocketIo(cfg.sender, "participant");
  await sleep(1000);
  out.rssPerConnectionBytes = (serverRss() - rss0) / cfg.clients;
  const idleCpu0 = serverCpu();
  const idleStart = now();
  await sleep(cfg.idleSeconds * 1000);
  out.idle = { seconds: cfg.idleSeconds, serverCoreFraction: (serverCpu() - idleCpu0) / ((now() - idleStart) / 1000) };
  out.burst = await burstPhase(sender, cfg.clients);
  out.rate = await ratePhase(sender, cfg.clients);
  if (cfg.stall) out.stall = await stallPhase(sender, cfg.clients);
  if (cfg.storm) { out.storm = await stormPhase(sender, receivers); }
  if (cfg.mode !== "ws" && cfg.ackConversationId) {
    if (!cfg.lean) for (const socket of receivers) socket.off("message:new");
    const ackSender = await new Promise((resolve, reject) => {
      const s = io(cfg.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { appId: cfg.appId, me: cfg.sender } });
      s.on("connect_error", reject);
      s.on("connect", () => resolve(s));
    });
    const saved = cfg.conversationId;
    cfg.conversationId = cfg.ackConversationId;
    out.ack = await ackPhase(ackSender);
    cfg.conversationId = saved;
    ackSender.close();
  }
  out.drops = state.drops;
  out.sendErrors = state.sendErrors || 0;
  process.stdout.write(JSON.stringify(out) + "\n");
  for (const client of receivers) (cfg.mode === "ws" || cfg.lean) ? client.terminate() : client.close();
  cfg.mode === "ws" ? sender.terminate() : sender.close();
  setTimeout(() => process.exit(0), 200);
}

setTimeout(() => { process.stderr.write("loadgen: overall time limit reached\n"); process.exit(3); }, cfg.maxSeconds * 1000);
main().catch((error) => { process.stderr.write(`loadgen: ${error.stack || error}\n`); process.exit(2); });
