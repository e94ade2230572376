/** The benchmark parts `npm run bench` runs, in order. Each figure is a number (units in its name) or a string. */
export type BenchFigures = Record<string, number | string | boolean>;
export interface BenchPart {
  run(): Promise<BenchFigures>;
}

export const parts: Record<string, () => Promise<BenchPart>> = {
  synth: () => import('./synth.mts'),
  edge: () => import('./edge.mts'),
  accounts: () => import('./accounts.mts'),
  backup: () => import('./backup.mts'),
  pages: () => import('./pages.mts'),
};
