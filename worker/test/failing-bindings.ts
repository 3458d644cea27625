/**
 * Hiccups on demand: the real local D1 database, R2 bucket or Durable Object namespace behind a
 * wrapper that throws, as the platform does on a transient failure, for the first `times` calls that
 * match — everything else goes through to the real binding. Handed to the code under test in place of
 * the binding, so what is tested is our code on the real components, not a mock of them.
 */
import type { SessionRoom } from "../durable-objects/session-room";

/** What a wrapper let through and what it refused; `times: Infinity` never lets a match through. */
export class FailurePlan {
  /** Every round trip, in order: a statement's SQL, or a batch's statements joined with `;\n`. */
  readonly calls: string[] = [];
  failures = 0;

  constructor(
    private readonly rule: {
      times: number;
      when?: (call: string) => boolean;
      message: string;
      /** What to throw; by default a plain Error with `message`, as the platform throws. */
      error?: (message: string) => Error;
      /** Batches that go through only once `until` settles (a slow round trip, at the moment a test picks). */
      hold?: { when: (call: string) => boolean; until: Promise<void> };
    },
  ) {}

  /** When a call may go through: at once, or once the plan's hold is released. */
  heldUntil(call: string): Promise<void> | null {
    return this.rule.hold?.when(call) ? this.rule.hold.until : null;
  }

  /** Records a call, and throws if it is one the plan fails. */
  check(call: string): void {
    this.calls.push(call);
    if (this.failures < this.rule.times && (this.rule.when?.(call) ?? true)) {
      this.failures++;
      throw this.rule.error?.(this.rule.message) ?? new Error(this.rule.message);
    }
  }
}

/** The message D1 gives when its connection drops, one of the errors its docs say to retry. */
export const D1_HICCUP = "D1_ERROR: Network connection lost.";
export const R2_HICCUP = "We encountered an internal error. Please try again. (10001)";

const EXECUTIONS = new Set<PropertyKey>(["first", "run", "all", "raw"]);
/** The real statement and SQL behind each wrapped one, for `batch`, which accepts only real statements. */
const wrappedStatements = new WeakMap<D1PreparedStatement, { real: D1PreparedStatement; sql: string }>();

function wrapStatement(statement: D1PreparedStatement, sql: string, plan: FailurePlan): D1PreparedStatement {
  const wrapped = new Proxy(statement, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === "bind") {
        return (...values: unknown[]) => wrapStatement(target.bind(...values), sql, plan);
      }
      if (EXECUTIONS.has(property) && typeof value === "function") {
        return (...args: unknown[]) => {
          plan.check(sql);
          return value.apply(target, args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  wrappedStatements.set(wrapped, { real: statement, sql });
  return wrapped;
}

/** `database`, failing the round trips `plan` picks (a batch is one round trip). */
export function failingD1(database: D1Database, plan: FailurePlan): D1Database {
  return new Proxy(database, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => wrapStatement(target.prepare(sql), sql, plan);
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          const wrapped = statements.map((statement) => wrappedStatements.get(statement));
          const call = wrapped.map((statement) => statement?.sql ?? "?").join(";\n");
          plan.check(call);
          const real = statements.map((statement, i) => wrapped[i]?.real ?? statement);
          const held = plan.heldUntil(call);
          return held ? held.then(() => target.batch(real)) : target.batch(real);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** `bucket`, failing the calls of the `methods` named (get, put, delete …) that `plan` picks. */
export function failingR2(bucket: R2Bucket, methods: readonly string[], plan: FailurePlan): R2Bucket {
  return new Proxy(bucket, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (typeof property === "string" && methods.includes(property)) {
        return async (...args: unknown[]) => {
          plan.check(`${property} ${String(args[0])}`);
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}

/** The rooms namespace, whose stubs fail the RPC `method` calls `plan` picks. */
export function failingRooms(
  rooms: DurableObjectNamespace<SessionRoom>,
  method: string,
  plan: FailurePlan,
): DurableObjectNamespace<SessionRoom> {
  return new Proxy(rooms, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property !== "getByName" || typeof value !== "function") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (name: string) => {
        const stub = target.getByName(name);
        return new Proxy(stub, {
          get(stubTarget, stubProperty) {
            const member: unknown = Reflect.get(stubTarget, stubProperty);
            if (stubProperty !== method || typeof member !== "function") return member;
            return async (...args: unknown[]) => {
              plan.check(`${method} ${name}`);
              // Not `member.apply`: on an RPC stub that names a remote method called "apply".
              return Reflect.apply(member, stubTarget, args);
            };
          },
        });
      };
    },
  });
}

/**
 * `bucket`, whose writes wait until `gate` resolves: an output write still under way, held open for
 * as long as the test needs. Every write is recorded in `writes` (its key), as it starts.
 */
export function heldWritesR2(bucket: R2Bucket, gate: Promise<void>, writes: string[]): R2Bucket {
  return new Proxy(bucket, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property !== "put") return value.bind(target);
      return async (...args: unknown[]) => {
        writes.push(String(args[0]));
        await gate;
        return value.apply(target, args);
      };
    },
  });
}

/**
 * The rooms namespace, with the room of `sessionId` answered by `room`: a SessionRoom built over that
 * room's real storage by the test (see `runInDurableObject`), so that requests the test sends reach
 * the very instance it holds, with what it holds in memory.
 */
export function roomsWith(
  rooms: DurableObjectNamespace<SessionRoom>,
  sessionId: string,
  room: SessionRoom,
): DurableObjectNamespace<SessionRoom> {
  return new Proxy(rooms, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === "getByName")
        return (name: string) =>
          name === sessionId ? (room as unknown as DurableObjectStub<SessionRoom>) : target.getByName(name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
