// The PET duplicate filter is bookkeeping over decoded PETs: no peer to talk to. The PETs are
// decoded from bytes built like a shelf manager's (src/sim/pet-trap.ts).
import { describe, expect, it } from 'vitest';
import { hotSwapPet } from '../../src/sim/pet-trap.js';
import { decodePet } from '../../src/snmp/pet.js';
import { PetDuplicates } from '../../src/snmp/pet-duplicates.js';

const M7 = 0xf06f07;

describe('PetDuplicates', () => {
  it('the same PET again within the window is a duplicate; after it, news again', () => {
    const d = new PetDuplicates(1000);
    const pet = decodePet(hotSwapPet(0x82, 7, 4, 0xf, 42));
    expect(d.check('s1', M7, pet, 0)).toBe(false);
    expect(d.check('s1', M7, pet, 999)).toBe(true);
    expect(d.check('s1', M7, pet, 2500)).toBe(false);
  });

  it('another sequence number, IPMC, shelf or trap is another event', () => {
    const d = new PetDuplicates(1000);
    expect(d.check('s1', M7, decodePet(hotSwapPet(0x82, 7, 4, 0xf, 1)), 0)).toBe(false);
    expect(d.check('s1', M7, decodePet(hotSwapPet(0x82, 7, 4, 0xf, 2)), 1)).toBe(false);
    expect(d.check('s1', M7, decodePet(hotSwapPet(0x84, 7, 4, 0xf, 1)), 2)).toBe(false);
    expect(d.check('s2', M7, decodePet(hotSwapPet(0x82, 7, 4, 0xf, 1)), 3)).toBe(false);
    expect(d.check('s1', 0xf06f04, decodePet(hotSwapPet(0x82, 7, 4, 0xf, 1)), 4)).toBe(false);
  });

  it('a PET with neither sequence nor timestamp is never taken for a repeat (fault, clear, fault)', () => {
    const d = new PetDuplicates(1000);
    const b = hotSwapPet(0x82, 7, 4, 0xf, 0);
    b.fill(0, 18, 22); // timestamp unspecified
    const pet = decodePet(b);
    expect(d.check('s1', M7, pet, 0)).toBe(false);
    expect(d.check('s1', M7, pet, 1)).toBe(false);
  });

  it('stays bounded: beyond its size the oldest are forgotten', () => {
    const d = new PetDuplicates(60_000, 4);
    const pets = [1, 2, 3, 4, 5].map((n) => decodePet(hotSwapPet(0x82, 7, 4, 0xf, n)));
    for (const p of pets) expect(d.check('s1', M7, p, 0)).toBe(false);
    expect(d.check('s1', M7, pets[4]!, 1)).toBe(true);
    expect(d.check('s1', M7, pets[0]!, 1)).toBe(false);
  });

  it('stays bounded through 50,000 distinct PETs, and through a clock that jumps back and forth', () => {
    const d = new PetDuplicates(60_000, 1000);
    const b = hotSwapPet(0x82, 7, 4, 0xf, 1);
    for (let i = 0; i < 50_000; i++) {
      b.writeUInt16BE((i % 0xffff) + 1, 16);
      b[33] = i >> 16;
      const now = i % 7 === 0 ? 0 : i % 5 === 0 ? 1e9 - i : i;
      d.check('s1', M7, decodePet(b), now);
      expect(d.size).toBeLessThanOrEqual(1000);
    }
    // And it still recognises a repeat.
    const pet = decodePet(hotSwapPet(0x90, 7, 4, 0xf, 7));
    expect(d.check('s1', M7, pet, 2e9)).toBe(false);
    expect(d.check('s1', M7, pet, 2e9 + 1)).toBe(true);
  });
});
