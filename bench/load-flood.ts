/**
 * bench:load's hostile flood, run as its own process: N hostile clients, each with a valid join token,
 * sending junk at R messages/s over raw socket.io frames (pre-encoded once, as a cheap attacker would, so
 * the attacker's own CPU does not starve the machine the server shares): placeholder bombs, binary
 * blobs, deep or long JSON under every protocol event, `model:get` for real and unreal versions, most with
 * ack ids so the server owes answers. A cut connection comes back after 50 ms; a refused handshake
 * (cool-down, per-address limit) is retried every 200 ms. Prints {"sent": n, ...} on SIGTERM.
 */
import WebSocket from 'ws';
import { createRng } from '../shared/data/rng';
import { EVENTS } from '../shared/protocol/messages';
import { SECAGG_EVENTS } from '../shared/protocol/secagg-messages';

export interface FloodConfig {
  url: string;
  tokens: string[];
  rate: number;
}

type Frame = { text: string; ack: boolean; attachment?: Buffer };

function junkFrames(): Frame[] {
  const events = [
    EVENTS.ready,
    EVENTS.getModel,
    EVENTS.submitUpdate,
    SECAGG_EVENTS.advertise,
    SECAGG_EVENTS.shareKeys,
    SECAGG_EVENTS.maskedInput,
    SECAGG_EVENTS.unmask,
    'x:junk',
  ];
  const placeholder = '{"_placeholder":true,"num":0}';
  const bomb = JSON.stringify({
    type: 'advertise',
    round: 1,
    sessionId: 'x'.repeat(12),
    from: 'y',
    cPk: Array.from({ length: 800 }, () => ({ $b: [0, 4096] })),
  });
  const frames: Frame[] = [];
  for (const e of events) {
    frames.push({ text: `["${e}",{"p":${bomb},"b":${placeholder}}]`, ack: true, attachment: Buffer.alloc(4096) });
    for (const v of [0, 1, 2]) frames.push({ text: `["${e}",{"version":${v}}]`, ack: true });
    frames.push({ text: `["${e}",${placeholder}]`, ack: true, attachment: Buffer.alloc(2048) });
    for (const len of [0, 64, 511])
      frames.push({ text: `["${e}",{"a":[[[[[[1]]]]]],"s":"${'z'.repeat(len)}"}]`, ack: true });
  }
  return frames;
}

export function runFlood(cfg: FloodConfig): void {
  const rng = createRng(7);
  const frames = junkFrames();
  const wsUrl = `${cfg.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
  let sent = 0;
  let handshakes = 0;
  let refused = 0;
  let cuts = 0;
  let ackId = 1;
  let stopping = false;
  const live = new Set<WebSocket>();

  const connect = (token: string, clientId: string) => {
    if (stopping) return;
    handshakes++;
    const ws = new WebSocket(wsUrl);
    let joined = false;
    ws.on('message', (data, binary) => {
      if (binary) return;
      const f = data.toString();
      if (f === '2') return ws.send('3'); // engine.io ping → pong
      if (f.startsWith('0')) return ws.send(`40${JSON.stringify({ token, clientId })}`);
      if (f.startsWith('40')) {
        joined = true;
        live.add(ws);
      } else if (f.startsWith('44')) {
        refused++;
        ws.close();
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      live.delete(ws);
      if (joined) cuts++;
      setTimeout(() => connect(token, clientId), joined ? 50 : 200);
    });
  };
  cfg.tokens.forEach((t, i) => connect(t, `hostile-${String(i).padStart(4, '0')}`));

  const perTick = cfg.rate / 10;
  const timer = setInterval(() => {
    for (const ws of live) {
      for (let k = 0; k < perTick; k++) {
        const f = frames[rng.int(frames.length)]!;
        const id = f.ack ? String(ackId++) : '';
        if (f.attachment) {
          ws.send(`451-${id}${f.text}`);
          ws.send(f.attachment);
        } else ws.send(`42${id}${f.text}`);
        sent++;
      }
    }
  }, 100);
  process.on('SIGTERM', () => {
    stopping = true;
    clearInterval(timer);
    process.stdout.write(JSON.stringify({ sent, handshakes, refused, cuts }) + '\n');
    process.exit(0);
  });
}
