// The part of asn1-ber 1.2 (net-snmp's BER reader, which ships no types) that
// src/snmp/snmp-engine.ts patches, and nothing more. Shapes checked against
// node_modules/asn1-ber/lib/ber/reader.js; the engine checks them when it is built.
declare module 'asn1-ber' {
  namespace asn1 {
    /** lib/ber/reader.js `Reader`: reads TLVs from a Buffer; null where the data runs out. */
    interface BerReader {
      /** Reads a TLV of `tag` and returns its content (a view of the buffer, with `retbuf`). */
      readString(tag: number, retbuf: true): Buffer | null;
      /** Expands the content into a string of '0' and '1' characters, 8 per byte. */
      readBitString(tag?: number): string | Buffer | null;
    }
    interface Asn1Ber {
      readonly Ber: { readonly Reader: { new (data: Buffer): BerReader; readonly prototype: BerReader } };
    }
  }
  const asn1: asn1.Asn1Ber;
  export = asn1;
}
