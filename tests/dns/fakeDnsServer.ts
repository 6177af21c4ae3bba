/**
 * A DNS server on 127.0.0.1 (UDP) answering A and TXT queries from a table, as an authoritative
 * server would (RFC 1035 4.1): a name it holds without that type answers NOERROR with no record
 * (node:dns: ENODATA), a name it does not hold NXDOMAIN (ENOTFOUND); `failing` answers SERVFAIL.
 * Enough for `customer verify-domain --dns-server` to run its real resolver against.
 */
import { createSocket, type Socket } from "node:dgram";

const TYPE = { A: 1, TXT: 16 } as const;
const RCODE = { noError: 0, serverFailure: 2, nameError: 3 } as const;

export interface DnsZoneData {
  a: Map<string, string[]>;
  txt: Map<string, string[]>;
}

export class FakeDnsServer {
  readonly records: DnsZoneData = { a: new Map(), txt: new Map() };
  /** Answer every query SERVFAIL. */
  failing = false;
  /** Names asked, with their type (`TXT _x.example.com`). */
  readonly queries: string[] = [];

  private constructor(private readonly socket: Socket) {}

  static async start(): Promise<FakeDnsServer> {
    const socket = createSocket("udp4");
    const server = new FakeDnsServer(socket);
    socket.on("message", (msg, rinfo) => {
      const reply = server.answer(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((done) => socket.bind(0, "127.0.0.1", done));
    return server;
  }

  /** `127.0.0.1:<port>`, for `--dns-server`. */
  get address(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }

  close(): Promise<void> {
    return new Promise((done) => this.socket.close(() => done()));
  }

  private answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    let at = 12;
    const labels: string[] = [];
    while (at < msg.length && msg[at]! > 0) {
      const len = msg[at]!;
      labels.push(msg.subarray(at + 1, at + 1 + len).toString("ascii"));
      at += 1 + len;
    }
    at += 1;
    const qtype = msg.readUInt16BE(at);
    const question = msg.subarray(12, at + 4);
    const name = labels.join(".").toLowerCase();
    this.queries.push(`${qtype === TYPE.TXT ? "TXT" : qtype === TYPE.A ? "A" : qtype} ${name}`);

    const known = this.records.a.has(name) || this.records.txt.has(name);
    const rdatas: Buffer[] =
      qtype === TYPE.A
        ? (this.records.a.get(name) ?? []).map((ip) => Buffer.from(ip.split(".").map(Number)))
        : qtype === TYPE.TXT
          ? (this.records.txt.get(name) ?? []).map((text) => {
              // One record, split into strings of at most 255 octets.
              const bytes = Buffer.from(text, "utf8");
              const parts: Buffer[] = [];
              for (let i = 0; i < bytes.length || i === 0; i += 255) {
                const chunk = bytes.subarray(i, i + 255);
                parts.push(Buffer.from([chunk.length]), chunk);
                if (bytes.length === 0) break;
              }
              return Buffer.concat(parts);
            })
          : [];
    const rcode = this.failing ? RCODE.serverFailure : known ? RCODE.noError : RCODE.nameError;
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8000 | 0x0400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2); // QR AA RD RA
    header.writeUInt16BE(1, 4);
    const answers = this.failing ? [] : rdatas;
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((rdata) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the question's name
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(300, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    return Buffer.concat([header, question, ...records]);
  }
}
