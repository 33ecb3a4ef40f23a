// Reading the kernel's per-socket drop count from /proc/net/udp{,6}. The parser is pure and fed
// captured text; UdpDropCounter is checked against a real socket of this process. (Counting real
// drops, with the event loop blocked, is in test/integration/snmp-trap-receiver.test.ts.)
import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { ownSocketInodes, parseProcNetUdp, UdpDropCounter } from '../../src/snmp/udp-drops.js';

const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
 4480: 0100007F:9F69 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 23905 2 000000006e11cf63 0         
 4481: 00000000:00A2 00000000:0000 07 00000000:00034000 00:00000000 00000000   114        0 99 2 000000006e11cf64 70123
 garbage line
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 3505: 00000000000000000000000001000000:DB9A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 23908 2 000000008346ecae 5
`;

function bound(type: SocketType, address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket(type);
    s.once('error', reject);
    s.bind(0, address, () => resolve(s));
  });
}

describe('parseProcNetUdp', () => {
  it('reads local address, port, inode and drops, and skips what it cannot read', () => {
    expect(parseProcNetUdp(UDP)).toEqual([
      { localAddress: '0100007F', localPort: 0x9f69, inode: 23905, drops: 0 },
      { localAddress: '00000000', localPort: 162, inode: 99, drops: 70123 },
    ]);
    expect(parseProcNetUdp(UDP6)).toEqual([
      { localAddress: '00000000000000000000000001000000', localPort: 0xdb9a, inode: 23908, drops: 5 },
    ]);
    expect(parseProcNetUdp('')).toEqual([]);
  });
});

describe('UdpDropCounter', () => {
  it.each([
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)('finds this process’s %s socket by port among its own fds, and reads 0 drops', async (type, address) => {
    const s = await bound(type, address);
    try {
      const c = UdpDropCounter.find(s.address().port);
      expect(c).toBeDefined();
      expect(ownSocketInodes().has(c!.inode)).toBe(true);
      expect(c!.read()).toBe(0);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('finds nothing for a port no socket of ours holds, and reads undefined once the socket is gone', async () => {
    const s = await bound('udp4', '127.0.0.1');
    const port = s.address().port;
    const c = UdpDropCounter.find(port)!;
    await new Promise<void>((r) => s.close(() => r()));
    expect(c.read()).toBeUndefined();
    expect(UdpDropCounter.find(port)).toBeUndefined();
  });
});
