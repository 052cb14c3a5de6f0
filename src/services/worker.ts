import { hostname } from "node:os";
import { ConfigurationError, storageFailure } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { isJobKind, type Job, type JobKind, type JobQueue } from "../ports/job-queue.js";

/** What a handler knows of the worker running it: its lease is renewed by the handler, if it runs long. */
export interface JobContext {
  workerId: string;
  leaseMs: number;
  /**
   * Aborted when the job is given up as a killed process would give it up (a function at its time limit):
   * the handler stops and records nothing, and the job's lease runs out.
   */
  signal?: AbortSignal;
}

/**
 * Runs one claimed job and records its outcome (complete, fail, postpone) itself. It throws only when
 * that bookkeeping fails; the worker then leaves the job to its lease.
 */
export type JobHandler<K extends JobKind> = (job: Job<K>, context: JobContext) => Promise<void>;

/** One declared handler per job kind. */
export type JobHandlers = { [K in JobKind]?: JobHandler<K> };

export interface WorkerOptions {
  concurrency: number;
  /** The kinds this worker claims (default: every kind it has a handler for). */
  kinds?: readonly JobKind[];
  /** How long a claimed job stays ours without a heartbeat. */
  leaseMs?: number;
  /** How often an idle worker looks for work (it is also woken when work is queued here). */
  pollMs?: number;
  /** First wait before probing a catalogue that could not be written; doubles up to maxProbeMs. */
  probeMs?: number;
  maxProbeMs?: number;
  workerId?: string;
  /** Runs before claiming, at most once per poll interval (ending jobs whose worker kept dying). */
  housekeeping?: () => Promise<unknown>;
}

export interface Worker {
  readonly workerId: string;
  /** Looks for work now instead of at the next poll. */
  wake(): void;
  /** Resolves when no job of its kinds is queued or running (for tests and one-shot commands). */
  drain(): Promise<void>;
  /** Stops claiming and waits for the jobs in hand to finish. */
  stop(): Promise<void>;
}

/** This process among all that ever had its pid (in a container, every run may be pid 1). */
const PROCESS_INSTANCE = Math.random().toString(36).slice(2, 10);
let workersStarted = 0;

/**
 * A worker id names its host, process and process instance, so a restart can tell its dead
 * predecessors' leases: `host:pid:instance.n`.
 */
export function newWorkerId(): string {
  workersStarted++;
  return `${hostname()}:${process.pid}:${PROCESS_INSTANCE}.${workersStarted}`;
}

/** The host, pid and process instance of a worker id made by newWorkerId, or null for another shape. */
export function parseWorkerId(workerId: string): { host: string; pid: number; instance: string } | null {
  const match = /^(.*):(\d+):([a-z0-9]+)(?:\.\d+)?$/.exec(workerId);
  return match ? { host: match[1] ?? "", pid: Number(match[2]), instance: match[3] ?? "" } : null;
}

/** Whether the worker id was made in this very process. */
export function isThisProcess(holder: { pid: number; instance: string }): boolean {
  return holder.pid === process.pid && holder.instance === PROCESS_INSTANCE;
}

/** Whether a process of this machine is gone (signal 0 tests for existence without sending anything). */
export function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Whether an error means the catalogue or queue cannot be written now (full disk, read-only database). */
export function isUnwritableStore(error: unknown): boolean {
  return storageFailure(error, "record the job") !== null;
}

/**
 * Runs jobs with `concurrency` slots until stopped, each kind by its handler. A kind without a handler
 * is refused at start. When the store cannot be written, the worker stops claiming (one log line),
 * probes with a growing delay, and says when it resumes: jobs it could not record are not taken.
 */
export function startWorker(
  deps: { queue: JobQueue; logger: Logger },
  handlers: JobHandlers,
  options: WorkerOptions,
): Worker {
  const kinds = options.kinds ?? (Object.keys(handlers) as JobKind[]);
  for (const kind of kinds) {
    if (!isJobKind(kind))
      throw new ConfigurationError(`the worker cannot run jobs of unknown kind "${kind}"`);
    if (!handlers[kind]) throw new ConfigurationError(`the worker has no handler for "${kind}" jobs`);
  }
  if (kinds.length === 0) throw new ConfigurationError("the worker was given no job kinds to run");
  const leaseMs = options.leaseMs ?? 60_000;
  const workerId = options.workerId ?? newWorkerId();
  const pollMs = options.pollMs ?? 1_000;
  const probeMs = options.probeMs ?? 1_000;
  const maxProbeMs = options.maxProbeMs ?? 30_000;
  const { queue, logger } = deps;
  let stopping = false;
  const sleepers = new Set<() => void>();
  let active = 0;
  const idleWaiters = new Set<() => void>();
  /** Set while the store cannot be written: no slot claims before `until`, and one slot probes. */
  let paused: { until: number; delayMs: number; probing: boolean } | null = null;
  let lastHousekeeping = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });
  const wakeUp = () => {
    for (const s of [...sleepers]) s();
  };

  const pause = (error: unknown) => {
    if (!paused) {
      logger.warn(
        { err: error, retryInMs: probeMs },
        "the catalogue cannot be written; the worker stops claiming jobs until it can",
      );
      paused = { until: Date.now() + probeMs, delayMs: probeMs, probing: false };
      return;
    }
    const delayMs = Math.min(maxProbeMs, paused.delayMs * 2);
    paused = { until: Date.now() + delayMs, delayMs, probing: false };
  };
  const resume = () => {
    if (!paused) return;
    paused = null;
    logger.info("the catalogue can be written again; the worker claims jobs again");
  };

  const checkIdle = async () => {
    if (active > 0 || idleWaiters.size === 0) return;
    const counts = await queue.counts(kinds);
    if (counts.queued === 0 && counts.running === 0 && active === 0) {
      for (const w of [...idleWaiters]) w();
      idleWaiters.clear();
    }
  };

  const run = async (job: Job) => {
    const context = { workerId, leaseMs };
    // Each kind's handler receives its own kind of job.
    await (handlers[job.kind] as JobHandler<typeof job.kind>)(job as never, context);
  };

  const slot = async () => {
    while (!stopping) {
      let probe = false;
      if (paused) {
        const wait = paused.until - Date.now();
        if (paused.probing || wait > 0) {
          await sleep(Math.max(wait, 50));
          continue;
        }
        paused.probing = true;
        probe = true;
      }
      let job: Job | null = null;
      try {
        if (options.housekeeping && Date.now() - lastHousekeeping >= pollMs) {
          lastHousekeeping = Date.now();
          await options.housekeeping();
        }
        job = await queue.claim(workerId, leaseMs, kinds);
      } catch (error) {
        if (isUnwritableStore(error)) {
          pause(error);
          continue;
        }
        if (probe && paused) paused.probing = false;
        logger.error({ err: error }, "could not claim a job");
      }
      if (!job) {
        // A probe that found nothing to do proves nothing: probe again later, without growing the delay.
        if (probe && paused) paused = { ...paused, until: Date.now() + paused.delayMs, probing: false };
        await checkIdle().catch(() => {});
        await sleep(pollMs);
        continue;
      }
      active++;
      try {
        await run(job);
        if (probe) resume();
      } catch (error) {
        if (isUnwritableStore(error)) pause(error);
        else {
          if (probe && paused) paused.probing = false;
          logger.error({ err: error, jobId: job.id }, "job bookkeeping failed; its lease will expire");
        }
      } finally {
        active--;
      }
    }
  };

  const slots = Array.from({ length: options.concurrency }, () => slot());
  logger.info({ concurrency: options.concurrency, workerId, kinds }, "worker started");

  return {
    workerId,
    wake: wakeUp,
    drain: () =>
      new Promise<void>((resolve) => {
        idleWaiters.add(resolve);
        wakeUp();
      }),
    stop: async () => {
      stopping = true;
      wakeUp();
      await Promise.all(slots);
    },
  };
}
