/**
 * What goes wrong with a call, for {@link EmulatorFaults.inject}:
 *
 * - `error`: answer with Telegram's error JSON, e.g. 429 with `retry_after`, or 502;
 * - `drop`: close the connection without an answer (the client sees a network error); with
 *   `afterProcessing: true` the call takes effect first, so only the response is lost;
 * - `delay`: answer `delayMs` later on the emulator's clock.
 *
 * @example
 * ```ts
 * import type { Fault } from '@botkit/testing';
 *
 * const floodWait: Fault = { kind: 'error', errorCode: 429, retryAfterSeconds: 5 };
 * const lostReply: Fault = { kind: 'drop', afterProcessing: true };
 * const slow: Fault = { kind: 'delay', delayMs: 10_000 };
 * ```
 */
export type Fault =
  | {
      /** Answer with an error. */
      readonly kind: 'error';
      /** HTTP status and `error_code` (429, 500, 502, 403...). */
      readonly errorCode: number;
      /** `description`. @defaultValue Telegram's text for the code, e.g. `Too Many Requests: retry after 5` */
      readonly description?: string | undefined;
      /** `parameters.retry_after` in seconds (for 429). @defaultValue `1` for 429, absent otherwise */
      readonly retryAfterSeconds?: number | undefined;
    }
  | {
      /** Close the connection without answering. */
      readonly kind: 'drop';
      /** Run the method before dropping the answer. @defaultValue `false` */
      readonly afterProcessing?: boolean | undefined;
    }
  | {
      /** Answer late. */
      readonly kind: 'delay';
      /** How long to hold the answer, in clock milliseconds. */
      readonly delayMs: number;
    };

/**
 * Options of {@link EmulatorFaults.inject}.
 *
 * @example
 * ```ts
 * emulator.faults.inject('sendMessage', { kind: 'error', errorCode: 502 }, { times: 2 });
 * ```
 */
export interface FaultOptions {
  /** How many calls the fault applies to, then it removes itself. @defaultValue `Infinity` */
  readonly times?: number | undefined;
}

/**
 * A fault in effect, returned by {@link EmulatorFaults.inject}.
 *
 * @example
 * ```ts
 * const fault = emulator.faults.inject('getUpdates', { kind: 'error', errorCode: 500 });
 * // ... the bot retries ...
 * console.log(fault.hits); // how many calls it hit
 * fault.remove();
 * ```
 */
export interface InjectedFault {
  /** The method it applies to (`'*'` for every method). */
  readonly method: string;
  /** The fault. */
  readonly fault: Fault;
  /** How many calls it has hit so far. */
  readonly hits: number;
  /** Whether it still applies (not removed, `times` not used up). */
  readonly active: boolean;
  /** Stops applying it. */
  remove(): void;
}

/**
 * Fault injection on a {@link BotApiEmulator}: failing calls, refusing connections, and a
 * webhook that Telegram cannot reach.
 *
 * @example
 * ```ts
 * emulator.faults.inject('getUpdates', { kind: 'error', errorCode: 429, retryAfterSeconds: 3 }, { times: 1 });
 * emulator.faults.webhookUnreachable(); // deliveries fail with "Connection refused"
 * await emulator.faults.refuseConnections(); // the Bot API itself is down
 * await emulator.faults.acceptConnections();
 * emulator.faults.clear();
 * ```
 */
export interface EmulatorFaults {
  /**
   * Makes calls of `method` (case-insensitive, `'*'` for all) fail as described.
   * The newest matching fault wins.
   *
   * @param method - Bot API method name, or `'*'`
   * @param fault - what happens to the call
   * @param options - `times` it applies
   * @returns a handle to inspect or remove the fault
   * @throws TypeError when the fault or options are invalid
   */
  inject(method: string, fault: Fault, options?: FaultOptions): InjectedFault;
  /** The faults in effect, oldest first. */
  readonly active: readonly InjectedFault[];
  /** Removes every injected fault and makes the webhook reachable again (connections stay as they are). */
  clear(): void;
  /**
   * Stops listening: new connections to {@link BotApiEmulator.apiRoot} are refused
   * (`ECONNREFUSED`) and open ones are closed (waiting long polls included), like a Bot API
   * server that went down. Webhook deliveries go on; add
   * {@link EmulatorFaults.webhookUnreachable} for a full Telegram outage.
   *
   * @returns resolves once the port is closed
   */
  refuseConnections(): Promise<void>;
  /**
   * Listens again on the same port after {@link EmulatorFaults.refuseConnections}.
   *
   * @returns resolves once listening
   */
  acceptConnections(): Promise<void>;
  /** Whether connections are being refused. */
  readonly refusingConnections: boolean;
  /**
   * Simulates Telegram being unable to reach the webhook while the bot's server is up:
   * every delivery fails with `message` (and is retried on the usual schedule).
   *
   * @param message - `last_error_message` to report. @defaultValue `'Connection refused'`
   */
  webhookUnreachable(message?: string): void;
  /** Ends {@link EmulatorFaults.webhookUnreachable}; pending updates are delivered on their next attempt. */
  webhookReachable(): void;
}

interface FaultEntry {
  handle?: InjectedFault;
  method: string;
  fault: Fault;
  remaining: number;
  hits: number;
  removed: boolean;
}

/** Validates a fault eagerly, naming the wrong field. */
export function validateFault(fault: Fault, options: FaultOptions | undefined): void {
  if (typeof fault !== 'object' || fault === null) throw new TypeError('Expected fault to be an object');
  if (fault.kind === 'error') {
    if (!Number.isInteger(fault.errorCode) || fault.errorCode < 400 || fault.errorCode > 599) {
      throw new TypeError(`Expected errorCode to be an HTTP error status (400-599), got ${fault.errorCode}`);
    }
    if (
      fault.retryAfterSeconds !== undefined &&
      !(Number.isInteger(fault.retryAfterSeconds) && fault.retryAfterSeconds >= 0)
    ) {
      throw new TypeError(`Expected retryAfterSeconds to be an integer >= 0, got ${fault.retryAfterSeconds}`);
    }
  } else if (fault.kind === 'delay') {
    if (!(Number.isFinite(fault.delayMs) && fault.delayMs >= 0)) {
      throw new TypeError(`Expected delayMs >= 0, got ${fault.delayMs}`);
    }
  } else if (fault.kind !== 'drop') {
    throw new TypeError(
      `Expected fault kind to be 'error', 'drop' or 'delay', got ${JSON.stringify((fault as { kind: unknown }).kind)}`,
    );
  }
  const times = options?.times;
  if (times !== undefined && !(times >= 1 && (Number.isInteger(times) || times === Number.POSITIVE_INFINITY))) {
    throw new TypeError(`Expected times to be an integer >= 1, got ${times}`);
  }
}

/** The table of injected faults. */
export class FaultTable {
  #entries: FaultEntry[] = [];

  add(method: string, fault: Fault, options?: FaultOptions): InjectedFault {
    if (typeof method !== 'string' || method === '') throw new TypeError('Expected method to be a non-empty string');
    validateFault(fault, options);
    const entry: FaultEntry = {
      method: method.toLowerCase(),
      fault,
      remaining: options?.times ?? Number.POSITIVE_INFINITY,
      hits: 0,
      removed: false,
    };
    this.#entries.push(entry);
    const table = this;
    entry.handle = {
      method,
      fault,
      get hits() {
        return entry.hits;
      },
      get active() {
        return !entry.removed && entry.remaining > 0;
      },
      remove() {
        table.#remove(entry);
      },
    };
    return entry.handle;
  }

  get handles(): InjectedFault[] {
    return this.#entries.map((e) => e.handle!);
  }

  #remove(entry: FaultEntry): void {
    entry.removed = true;
    this.#entries = this.#entries.filter((e) => e !== entry);
  }

  /** Takes the newest fault matching `method`, counting the hit. */
  take(method: string): Fault | undefined {
    const lower = method.toLowerCase();
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]!;
      if (entry.method !== '*' && entry.method !== lower) continue;
      entry.hits++;
      entry.remaining--;
      if (entry.remaining <= 0) this.#remove(entry);
      return entry.fault;
    }
    return undefined;
  }

  get size(): number {
    return this.#entries.length;
  }

  clear(): void {
    for (const entry of this.#entries) entry.removed = true;
    this.#entries = [];
  }
}

/** What the faults controller needs from the emulator. */
export interface FaultHooks {
  refuse(): Promise<void>;
  accept(): Promise<void>;
  refusing(): boolean;
  setUnreachable(message: string | undefined): void;
}

/** The public {@link EmulatorFaults} object over a fault table and the emulator's hooks. */
export function createFaultsController(table: FaultTable, hooks: FaultHooks): EmulatorFaults {
  return {
    inject: (method, fault, options) => table.add(method, fault, options),
    get active() {
      return table.handles;
    },
    clear: () => {
      table.clear();
      hooks.setUnreachable(undefined);
    },
    refuseConnections: () => hooks.refuse(),
    acceptConnections: () => hooks.accept(),
    get refusingConnections() {
      return hooks.refusing();
    },
    webhookUnreachable: (message = 'Connection refused') => {
      if (typeof message !== 'string' || message === '') {
        throw new TypeError('Expected message to be a non-empty string');
      }
      hooks.setUnreachable(message);
    },
    webhookReachable: () => hooks.setUnreachable(undefined),
  };
}
