// The part of net-snmp 3.29 (which ships no types) that src/snmp and its tests use, and
// nothing more. Shapes checked against node_modules/net-snmp/index.js and its README.
declare module 'net-snmp' {
  import type { RemoteInfo, Socket, SocketType } from 'node:dgram';

  // Types live in a namespace merged with the module's value, so that callers can name them
  // (snmp.Notification) through the one default import.
  namespace snmp {
    interface Varbind {
      readonly oid: string;
      readonly type: number;
      readonly value: unknown;
    }

    /** A received Trap (v1) or TrapV2/InformRequest PDU as the receiver callback gets it. */
    interface NotificationPdu {
      readonly type: number;
      readonly varbinds: readonly Varbind[];
      /** v1 Trap-PDU only. */
      readonly enterprise?: string;
      readonly agentAddr?: string;
      readonly generic?: number;
      readonly specific?: number;
      /** With includeAuthentication: the community (v1/v2c, when not empty) or the v3 user name. */
      readonly community?: string;
      readonly user?: string;
    }

    interface Notification {
      readonly pdu: NotificationPdu;
      readonly rinfo: RemoteInfo;
    }

    /** Errors the receiver reports; those about a datagram carry its sender in `rinfo`. */
    interface ReceiverError extends Error {
      readonly rinfo?: RemoteInfo;
      /** ResponseInvalidError: a ResponseInvalidCode. Socket errors: a Node error code string. */
      readonly code?: number | string;
    }

    /** Enough of node:dgram for net-snmp's Listener, which calls only createSocket. */
    interface DgramModule {
      createSocket(type: SocketType): Socket;
    }

    interface ReceiverOptions {
      port: number;
      /** The receiver's own SNMPv3 engine ID as hex (authoritative for informs and discovery). */
      engineID?: string;
      address?: string | null;
      transport?: SocketType;
      includeAuthentication?: boolean;
      disableAuthorization?: boolean;
      dgramModule?: DgramModule;
    }

    interface User {
      name: string;
      level: number;
      authProtocol?: number;
      authKey?: string;
      privProtocol?: number;
      privKey?: string;
    }

    interface Authorizer {
      addCommunity(community: string): void;
      addUser(user: User): void;
    }

    interface Receiver {
      getAuthorizer(): Authorizer;
      close(callback?: () => void): void;
    }

    // --- Internals of net-snmp 3.29 that src/snmp/snmp-engine.ts relies on. Not in the README:
    // the engine checks each one is there when it is built (and the version is pinned exactly).

    /** A decoded or to-be-sent SNMP message (index.js `Message`). */
    interface Message {
      /** 0 (v1), 1 (v2c) or 3. */
      readonly version: number;
      readonly pdu: { readonly type: number; readonly varbinds?: readonly Varbind[] };
      /** v1/v2c. */
      readonly community?: string;
      /** v3: the local user the message was matched to. */
      readonly user?: { readonly name: string };
      /** v3: the USM header (engine ID: the sender's for a trap, ours for an inform). */
      readonly msgSecurityParameters?: { readonly msgAuthoritativeEngineID?: Buffer };
      /** BER-encodes the message (and, for v3, encrypts and signs it); throws on values it cannot write. */
      toBuffer(): Buffer;
    }

    /** index.js `Listener`: owns the sockets; `send` encodes a reply and sends it. */
    interface ReceiverListener {
      send(message: Message, rinfo: RemoteInfo, socket: unknown): void;
    }

    /** The receiver with its internals: `listener`, and the per-message hook `formatCallbackData`. */
    interface ReceiverInternals extends Receiver {
      listener?: ReceiverListener;
      /** This receiver's own SNMPv3 engine (authoritative for informs and discovery). */
      engine?: { readonly engineID?: Buffer };
      formatCallbackData?: (message: Message, rinfo: RemoteInfo) => Notification;
    }

    /** index.js `Authentication`: its key-localisation cache grows by one entry per engine ID seen. */
    interface AuthenticationInternals {
      authToKeyCache?: Record<string, Buffer>;
      /** RFC 3414 A.2 password-to-key: hashes 1 MB, then localises to `engineID`; cached. */
      passwordToKey?: (authProtocol: number, password: string, engineID: Buffer) => Buffer;
      computeCacheKey?: (authProtocol: number, password: string, engineID: Buffer) => string;
    }

    interface Session {
      trap(typeOrOid: string, varbinds: readonly Varbind[], callback: (error: Error | null) => void): void;
      close(): void;
    }

    interface NetSnmp {
      createReceiver(
        options: ReceiverOptions,
        callback: (error: ReceiverError | null, notification: Notification | null) => void,
      ): Receiver;
      createV3Session(target: string, user: User, options: { trapPort: number; version?: number }): Session;
      readonly Version3: number;
      readonly SecurityLevel: { readonly noAuthNoPriv: number; readonly authPriv: number };
      readonly AuthProtocols: { readonly md5: number; readonly sha: number };
      readonly PrivProtocols: { readonly des: number; readonly aes: number };
      readonly PduType: {
        readonly GetRequest: number;
        readonly GetResponse: number;
        readonly Trap: number;
        readonly TrapV2: number;
        readonly InformRequest: number;
        readonly Report: number;
      };
      readonly Authentication: AuthenticationInternals;
      /** Both ways: ObjectType.OctetString === 4 and ObjectType[4] === 'OctetString'. */
      readonly ObjectType: {
        readonly OctetString: number;
        readonly OID: number;
        readonly [code: number]: string | undefined;
      };
      readonly ResponseInvalidCode: { readonly ECouldNotDecrypt: number; readonly EAuthFailure: number };
    }
  }

  const snmp: snmp.NetSnmp;
  export = snmp;
}
