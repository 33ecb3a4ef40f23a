// The simulated shelf's PICMG log (written by src/sim/ext/atca_shelf_ext.c), which integration
// tests read to assert what an agent really sent.
import { describe, expect, it } from 'vitest';
import { parsePicmgLog } from '../../src/sim/shelf-manager.js';

describe('parsePicmgLog', () => {
  it('reads commands, replies and state changes, in order, ignoring unrelated lines', () => {
    const log = [
      '1795636885.001 atca_shelf_ext ready',
      '1795636885.582 picmg mc=0x82 cmd=0x0c data=00 00 00',
      '1795636885.582 state mc=0x82 M4->M6',
      '1795636885.582 reply mc=0x82 cmd=0x0c cc=0x00',
      '1795636885.691 state mc=0x82 M6->M1',
      '',
    ].join('\n');
    expect(parsePicmgLog(log)).toEqual([
      { kind: 'picmg', mc: 0x82, cmd: 0x0c, data: [0x00, 0x00, 0x00] },
      { kind: 'state', mc: 0x82, from: 4, to: 6 },
      { kind: 'reply', mc: 0x82, cmd: 0x0c, cc: 0x00 },
      { kind: 'state', mc: 0x82, from: 6, to: 1 },
    ]);
  });

  it.each([
    ['', []],
    ['\n\n', []],
    ['1795636885.001 atca_shelf_ext ready\n', []],
    ['some other ipmi_sim chatter\n', []],
  ])('finds no entries in %j', (text, entries) => {
    expect(parsePicmgLog(text)).toEqual(entries);
  });

  it('reads a command with no data bytes as empty data', () => {
    expect(parsePicmgLog('1795636885.582 picmg mc=0x20 cmd=0x01 data=\n')).toEqual([
      { kind: 'picmg', mc: 0x20, cmd: 0x01, data: [] },
    ]);
  });

  it('reads every data byte as hex', () => {
    expect(parsePicmgLog('1795636885.582 picmg mc=0x9a cmd=0x0a data=00 00 02 ff')).toEqual([
      { kind: 'picmg', mc: 0x9a, cmd: 0x0a, data: [0x00, 0x00, 0x02, 0xff] },
    ]);
  });

  it('reads a non-zero completion code', () => {
    expect(parsePicmgLog('1795636885.700 reply mc=0x88 cmd=0x0c cc=0xd5')).toEqual([
      { kind: 'reply', mc: 0x88, cmd: 0x0c, cc: 0xd5 },
    ]);
  });

  it.each([
    [4, 6],
    [6, 1],
    [1, 2],
    [2, 3],
    [3, 4],
    [0, 7],
  ])('reads the state change M%i->M%i', (from, to) => {
    expect(parsePicmgLog(`1795636885.691 state mc=0x84 M${from}->M${to}`)).toEqual([
      { kind: 'state', mc: 0x84, from, to },
    ]);
  });

  it('does not depend on the timestamp prefix or on CRLF line ends', () => {
    expect(parsePicmgLog('picmg mc=0x82 cmd=0x11 data=00 00 00 00\r\nreply mc=0x82 cmd=0x11 cc=0x00\r\n')).toEqual([
      { kind: 'picmg', mc: 0x82, cmd: 0x11, data: [0, 0, 0, 0] },
      { kind: 'reply', mc: 0x82, cmd: 0x11, cc: 0 },
    ]);
  });
});
