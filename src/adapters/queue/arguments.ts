import { PhotocatError } from "../../domain/errors.js";
import { ALL_JOB_KINDS, JOB_KINDS, type JobKind } from "../../ports/job-queue.js";

/** The job kinds asked for (all when none are named), each checked to be one the product knows. */
export function checkKinds(kinds: readonly JobKind[] | undefined): JobKind[] {
  const list = kinds ? [...kinds] : ALL_JOB_KINDS;
  for (const kind of list) {
    if (!Object.hasOwn(JOB_KINDS, kind)) throw new PhotocatError("invalid_request", `no job kind "${kind}"`);
  }
  return list;
}

/** A duration given to a job queue, in whole milliseconds, refused when negative or not a number. */
export function checkMs(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new PhotocatError("invalid_request", `${name} must be a number of milliseconds of at least 0`);
  }
  return Math.round(value);
}
