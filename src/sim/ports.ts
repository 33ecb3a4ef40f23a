import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * Free loopback ports chosen at run time. ipmi_sim sets SO_REUSEADDR, so a busy UDP port
 * is shared silently rather than refused: we pick from below the kernel's ephemeral range,
 * at random, check UDP and TCP both bind, and never hand the same port out twice per process.
 */
const handedOut = new Set<number>();
const LOW = 20000;
const HIGH = 32000;

function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function canBindTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port)) continue;
    if ((await canBindUdp(port)) && (await canBindTcp(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found in 200 tries');
}

/** Whether a TCP port can be listened on at 127.0.0.1 now (the demo's API prefers 8162). */
export function canListen(port: number): Promise<boolean> {
  return canBindTcp(port);
}
