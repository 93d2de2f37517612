import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createDeflate, type Deflate, constants as zlibConstants } from 'node:zlib';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { sessionId as newSessionId } from './ids.ts';

/** Gateway intents the stand-in looks at. */
export const Intents = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildMessages: 1 << 9,
  MessageContent: 1 << 15,
} as const;

const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** How many dispatches a session keeps for replay on RESUME. */
const REPLAY_BUFFER = 1000;

interface Frame {
  readonly op: number;
  readonly d: unknown;
  readonly s: number | null;
  readonly t: string | null;
}

interface Session {
  readonly id: string;
  readonly intents: number;
  seq: number;
  connection: Connection | null;
  readonly buffer: Frame[];
}

interface Connection {
  readonly ws: WebSocket;
  session: Session | null;
  send(frame: Frame): void;
}

export interface GatewayStats {
  /** Sockets accepted since start. */
  readonly connections: number;
  readonly identifies: number;
  readonly resumes: number;
  /** INVALID_SESSION (op 9) frames sent. */
  readonly invalidSessions: number;
  readonly heartbeats: number;
}

export interface GatewayHubOptions {
  readonly server: Server;
  readonly token: string;
  readonly heartbeatIntervalMs: number;
  /** `ws://127.0.0.1:PORT`, the base of `resume_gateway_url`. */
  readonly url: string;
  readonly readyPayload: (sessionId: string, shard: readonly [number, number]) => Record<string, unknown>;
  readonly guildCreatePayloads: () => Record<string, unknown>[];
  readonly membersChunk: (request: Record<string, unknown>) => Record<string, unknown> | null;
  /** While true, upgrades are refused with 503 (the gateway is down). */
  readonly refusing: () => boolean;
  /** Called whenever a socket opens, becomes ready or closes. */
  readonly onChange: () => void;
}

export interface DropOptions {
  /** Keep sessions so that clients can RESUME (default true); otherwise they get INVALID_SESSION. */
  readonly resumable?: boolean;
  /**
   * 'terminate' cuts the TCP connection without a close frame (a network drop, code 1006 on the
   * client); 'reconnect' sends op 7 RECONNECT as Discord does before it restarts a gateway node.
   */
  readonly how?: 'terminate' | 'reconnect';
}

/** The gateway side of the stand-in: Discord's WebSocket on the HTTP server's port. */
export interface GatewayHub {
  /** Sends a dispatch to every session (live now, or buffered for its RESUME); returns how many. */
  dispatch(t: string, d: unknown, intent?: number): number;
  /**
   * Like `dispatch`, with a payload built per session from its intents (Discord leaves a message's
   * content out for a session without MESSAGE_CONTENT, say).
   */
  dispatchFor(t: string, build: (intents: number) => unknown, intent?: number): number;
  drop(options?: DropOptions): void;
  /** Open sockets with a READY or RESUMED session. */
  readonly readyConnections: number;
  /** Sessions that are live or could still resume. */
  readonly sessionCount: number;
  stats(): GatewayStats;
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A sender for `compress=zlib-stream`: one deflate context per connection, flushed per payload. */
function zlibSender(ws: WebSocket): { send(text: string): void; close(): void } {
  const deflate: Deflate = createDeflate({ flush: zlibConstants.Z_SYNC_FLUSH });
  deflate.on('data', (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true });
  });
  deflate.on('error', () => ws.terminate());
  return {
    send: (text) => {
      deflate.write(text);
    },
    close: () => deflate.destroy(),
  };
}

export function createGatewayHub(options: GatewayHubOptions): GatewayHub {
  const wss = new WebSocketServer({ noServer: true });
  const sessions = new Map<string, Session>();
  const connections = new Set<Connection>();
  const stats = { connections: 0, identifies: 0, resumes: 0, invalidSessions: 0, heartbeats: 0 };

  const dispatchTo = (session: Session, t: string, d: unknown): void => {
    session.seq++;
    const frame: Frame = { op: Op.Dispatch, t, s: session.seq, d };
    session.buffer.push(frame);
    if (session.buffer.length > REPLAY_BUFFER) session.buffer.shift();
    session.connection?.send(frame);
  };

  const detach = (connection: Connection): void => {
    if (connection.session?.connection === connection) connection.session.connection = null;
    connection.session = null;
  };

  const invalidSession = (connection: Connection): void => {
    stats.invalidSessions++;
    connection.send({ op: Op.InvalidSession, d: false, s: null, t: null });
  };

  const onFrame = (connection: Connection, frame: Record<string, unknown>): void => {
    const d = (typeof frame.d === 'object' && frame.d !== null ? frame.d : {}) as Record<string, unknown>;
    switch (frame.op) {
      case Op.Heartbeat:
        stats.heartbeats++;
        connection.send({ op: Op.HeartbeatAck, d: null, s: null, t: null });
        return;
      case Op.Identify: {
        if (connection.session !== null) {
          connection.ws.close(4005, 'Already authenticated.');
          return;
        }
        if (d.token !== options.token && d.token !== `Bot ${options.token}`) {
          connection.ws.close(4004, 'Authentication failed.');
          return;
        }
        if (typeof d.intents !== 'number') {
          connection.ws.close(4013, 'Invalid intent(s).');
          return;
        }
        const shard = Array.isArray(d.shard) ? (d.shard as [number, number]) : ([0, 1] as const);
        stats.identifies++;
        const session: Session = { id: newSessionId(), intents: d.intents, seq: 0, connection, buffer: [] };
        sessions.set(session.id, session);
        connection.session = session;
        dispatchTo(session, 'READY', options.readyPayload(session.id, shard));
        for (const guild of options.guildCreatePayloads()) dispatchTo(session, 'GUILD_CREATE', guild);
        options.onChange();
        return;
      }
      case Op.Resume: {
        const session = typeof d.session_id === 'string' ? sessions.get(d.session_id) : undefined;
        const seq = typeof d.seq === 'number' ? d.seq : 0;
        if (d.token !== options.token && d.token !== `Bot ${options.token}`) {
          connection.ws.close(4004, 'Authentication failed.');
          return;
        }
        if (session === undefined || seq > session.seq) {
          invalidSession(connection);
          return;
        }
        const previous = session.connection;
        if (previous !== null && previous !== connection) {
          detach(previous);
          previous.ws.terminate();
        }
        stats.resumes++;
        session.connection = connection;
        connection.session = session;
        for (const missed of session.buffer) if (missed.s !== null && missed.s > seq) connection.send(missed);
        dispatchTo(session, 'RESUMED', { _trace: ['["gateway-sandbox",{"micros":0}]'] });
        options.onChange();
        return;
      }
      case Op.RequestGuildMembers: {
        if (connection.session === null) {
          connection.ws.close(4003, 'Not authenticated.');
          return;
        }
        const chunk = options.membersChunk(d);
        if (chunk !== null) dispatchTo(connection.session, 'GUILD_MEMBERS_CHUNK', chunk);
        return;
      }
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
        if (connection.session === null) connection.ws.close(4003, 'Not authenticated.');
        return;
      default:
        connection.ws.close(4001, 'Unknown opcode.');
    }
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/' && url.pathname !== '/resume') {
      refuse(socket, 404, 'Not Found');
      return;
    }
    if (options.refusing()) {
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      stats.connections++;
      const version = url.searchParams.get('v');
      const zlib = url.searchParams.get('compress') === 'zlib-stream' ? zlibSender(ws) : null;
      const connection: Connection = {
        ws,
        session: null,
        send(frame) {
          if (ws.readyState !== ws.OPEN) return;
          const text = JSON.stringify(frame);
          if (zlib === null) ws.send(text);
          else zlib.send(text);
        },
      };
      connections.add(connection);
      const gone = () => {
        if (!connections.delete(connection)) return;
        zlib?.close();
        detach(connection);
        options.onChange();
      };
      ws.on('close', (code) => {
        // A clean close (1000/1001) ends the session, as on Discord; anything else keeps it resumable.
        const session = connection.session;
        if ((code === 1000 || code === 1001) && session !== null && session.connection === connection)
          sessions.delete(session.id);
        gone();
      });
      ws.on('error', gone);
      if (version !== null && version !== '10') {
        ws.close(4012, 'Invalid API version.');
        return;
      }
      ws.on('message', (data: RawData, isBinary) => {
        if (isBinary) {
          ws.close(4002, 'Error while decoding payload.');
          return;
        }
        let frame: unknown;
        try {
          frame = JSON.parse(String(data));
        } catch {
          ws.close(4002, 'Error while decoding payload.');
          return;
        }
        if (typeof frame !== 'object' || frame === null) {
          ws.close(4002, 'Error while decoding payload.');
          return;
        }
        onFrame(connection, frame as Record<string, unknown>);
      });
      connection.send({
        op: Op.Hello,
        d: { heartbeat_interval: options.heartbeatIntervalMs, _trace: ['["gateway-sandbox",{"micros":0}]'] },
        s: null,
        t: null,
      });
      options.onChange();
    });
  };
  options.server.on('upgrade', onUpgrade);

  return {
    dispatch(t, d, intent) {
      return this.dispatchFor(t, () => d, intent);
    },
    dispatchFor(t, build, intent) {
      let count = 0;
      for (const session of sessions.values()) {
        if (intent !== undefined && (session.intents & intent) === 0) continue;
        dispatchTo(session, t, build(session.intents));
        count++;
      }
      return count;
    },
    drop(dropOptions = {}) {
      if (dropOptions.resumable === false) sessions.clear();
      for (const connection of [...connections]) {
        if (dropOptions.how === 'reconnect') {
          connection.send({ op: Op.Reconnect, d: null, s: null, t: null });
        } else {
          detach(connection);
          connection.ws.terminate();
        }
      }
    },
    get readyConnections() {
      let count = 0;
      for (const connection of connections)
        if (connection.session !== null && connection.ws.readyState === connection.ws.OPEN) count++;
      return count;
    },
    get sessionCount() {
      return sessions.size;
    },
    stats: () => ({ ...stats }),
    close() {
      options.server.off('upgrade', onUpgrade);
      for (const connection of connections) connection.ws.terminate();
      connections.clear();
      sessions.clear();
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
