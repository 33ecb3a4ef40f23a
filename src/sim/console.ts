import { connect, type Socket } from 'node:net';

/**
 * A client for ipmi_sim's console: a TCP port taking the .emu commands at run time — the
 * fault-injection channel. Replies start with telnet negotiation bytes, echo the command,
 * and end at the next "> " prompt; errors are lines starting with "**".
 */
export class SimConsole {
  readonly #socket: Socket;
  #buf = '';
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buf += d;
      this.#wake?.();
    });
    socket.on('error', () => this.#wake?.());
  }

  static async open(port: number): Promise<SimConsole> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new SimConsole(socket);
    await c.#until(() => c.#buf.includes('> '), 'the first prompt');
    c.#buf = '';
    return c;
  }

  /** Runs one command; rejects with the simulator's own error text when it refuses it. */
  async run(command: string): Promise<string> {
    this.#buf = '';
    this.#socket.write(`${command}\n`);
    const echoAt = () => this.#buf.indexOf(command);
    await this.#until(() => {
      const at = echoAt();
      return at >= 0 && this.#buf.indexOf('> ', at) >= 0;
    }, command);
    const at = echoAt();
    const reply = this.#buf
      .slice(at + command.length, this.#buf.indexOf('> ', at))
      .replace(/\r/g, '')
      .trim();
    const errors = reply.split('\n').filter((l) => l.startsWith('**'));
    if (errors.length > 0) throw new Error(`ipmi_sim refused "${command}": ${errors.join('; ')}`);
    return reply;
  }

  #until(ok: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        reject(new Error(`ipmi_sim console: no answer to ${what}`));
      }, 5000);
      const check = () => {
        if (ok()) {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        }
      };
      this.#wake = check;
      check();
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}
