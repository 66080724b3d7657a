// What every scenario receives and returns.
import type { Machine } from './env.js';

export interface BenchOptions {
  quick: boolean;
  machine: Machine;
  /** Directory for V8 CPU profiles of the process under test (--profile). */
  cpuProfDir?: string | undefined;
  /** Progress notes (stderr). */
  note: (text: string) => void;
}

export interface ScenarioResult {
  name: string;
  /** The headline figure; NaN when skipped. */
  figure: number;
  unit: string;
  /** Figure / baseline figure, where it applies. */
  ratio?: number;
  /** Secondary figures, as text for the printed line. */
  extra?: string;
  /** Why the scenario did not run. */
  skipped?: string;
  /** The target of issue 6 this figure is held against, and whether it was met. */
  target?: { text: string; met: boolean };
  /** Everything measured, for the JSON. */
  details: Record<string, unknown>;
}

export type Scenario = (opts: BenchOptions, baseline?: ScenarioResult) => Promise<ScenarioResult>;
