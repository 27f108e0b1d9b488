import type { EventEmitter } from 'node:events';

/**
 * Drops socket.io event packets before they are decoded, when `drop()` says so (a client far over
 * its rate limit, whose events would be refused anyway): JSON parsing and placeholder
 * reconstruction of junk was most of the server's CPU under a flood. Only the packet header (type
 * and attachment count, the first few characters) is read; a dropped binary event's attachment
 * frames are dropped with it, so the decoder's state stays consistent.
 *
 * Works on the engine.io connection's "data" listener that socket.io's client installs; call it
 * once the socket.io connection exists.
 */
export function gateFrames(conn: EventEmitter, drop: () => boolean): void {
  // Exactly socket.io's decoder is expected; anything else (a changed socket.io) is left ungated.
  const listeners = conn.listeners('data');
  if (listeners.length !== 1) return;
  const decode = listeners[0] as (data: unknown) => void;
  let skipAttachments = 0;
  conn.removeListener('data', decode);
  conn.on('data', (data: unknown) => {
    if (typeof data !== 'string') {
      if (skipAttachments > 0) {
        skipAttachments--;
        return;
      }
      return decode(data);
    }
    // socket.io packet types: 2 = EVENT, 5 = BINARY_EVENT ("5<attachments>-…"); others pass.
    const type = data.charCodeAt(0);
    if ((type === 0x32 || type === 0x35) && drop()) {
      if (type === 0x35) {
        const dash = data.indexOf('-', 1);
        const n = dash > 1 && dash < 12 ? Number(data.slice(1, dash)) : NaN;
        skipAttachments = Number.isSafeInteger(n) && n >= 0 ? n : 0;
      }
      return;
    }
    decode(data);
  });
}
