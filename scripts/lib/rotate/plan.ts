/**
 * What every rotation is made of: numbered steps, each safe to run again, run in order. A failing step stops the
 * run with a message saying the previous secrets still work and how to resume or roll back; `--dry-run` prints the
 * steps and runs none (planning only reads). Progress goes to stderr.
 */
import { userInfo } from 'node:os';

export interface Step {
  readonly title: string;
  run(): Promise<void>;
}

export interface Plan {
  /** e.g. "agent-signing (agent local)". */
  readonly what: string;
  readonly steps: readonly Step[];
  /** Printed when a step fails. */
  readonly onFailure: string;
  /** Steps already done in an earlier run that this one resumes, described for the person. */
  readonly resumed?: string;
}

export interface RunOptions {
  readonly dryRun: boolean;
  readonly err: (line: string) => void;
  /** Tests: fail step N (1-based) before it runs, as a crash there would. */
  readonly failBeforeStep?: number;
}

export class StepFailed extends Error {}

/** Thrown by a step that waits for the operator (a deploy to run, a check to make): the run stops there, exit 0. */
export class DeployPending extends Error {}

export async function runPlan(plan: Plan, options: RunOptions): Promise<void> {
  const { err } = options;
  if (plan.resumed) err(`resuming ${plan.what}: ${plan.resumed}`);
  if (options.dryRun) {
    err(`dry run: rotating ${plan.what} would take these steps (nothing was changed):`);
    plan.steps.forEach((step, index) => err(`  ${index + 1}. ${step.title}`));
    return;
  }
  for (const [index, step] of plan.steps.entries()) {
    const label = `[${index + 1}/${plan.steps.length}]`;
    err(`${label} ${step.title}`);
    try {
      if (options.failBeforeStep === index + 1) throw new Error('failure injected for a test');
      await step.run();
    } catch (error) {
      if (error instanceof DeployPending) {
        err(`paused after step ${index}: ${error.message}`);
        return;
      }
      throw new StepFailed(`step ${index + 1} (${step.title}) failed: ${(error as Error).message}\n${plan.onFailure}`);
    }
  }
  err(`done: ${plan.what} rotated`);
}

/** Who runs the rotation, for the audit trail: the person behind sudo if any. */
export function actor(env: Record<string, string | undefined>): string {
  return env.MEET_ADMIN || env.SUDO_USER || env.USER || env.LOGNAME || userInfo().username;
}
