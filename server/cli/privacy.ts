/**
 * Privacy calculator for the sampled Gaussian mechanism (client-level DP-FedAvg).
 *   npx tsx server/cli/privacy.ts --q 0.01 --noise 1.1 --rounds 1000 --delta 1e-5
 *   npx tsx server/cli/privacy.ts --q 0.01 --rounds 1000 --delta 1e-5 --target-epsilon 3   (solves z)
 *   npx tsx server/cli/privacy.ts --q 0.01 --noise 1.1 --delta 1e-5 --target-epsilon 3     (solves rounds)
 */
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { computeEpsilon, solveMaxSteps, solveNoiseMultiplier } from '../../shared/privacy/rdp';

function num(what: string, ok: (x: number) => boolean, rule: string) {
  return (raw: string): number => {
    const x = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new InvalidArgumentError(`${what} must be ${rule}.`);
    return x;
  };
}

interface Opts {
  q: number;
  noise?: number;
  rounds?: number;
  delta: number;
  targetEpsilon?: number;
  json?: boolean;
}

export interface PrivacyResult {
  q: number;
  delta: number;
  noiseMultiplier: number;
  rounds: number;
  epsilon: number;
  bestOrder: number;
  solvedFor: 'epsilon' | 'noise' | 'rounds';
}

/** Works out what the options ask for; throws an Error with a user-facing message on a bad combination. */
export function evaluate(o: Opts): PrivacyResult {
  const base = { q: o.q, delta: o.delta };
  if (o.targetEpsilon === undefined) {
    if (o.noise === undefined || o.rounds === undefined) {
      throw new Error(
        'both --noise and --rounds are required (or give --target-epsilon and omit one of them to solve for it)',
      );
    }
    const r = computeEpsilon(o.q, o.noise, o.rounds, o.delta);
    return { ...base, noiseMultiplier: o.noise, rounds: o.rounds, ...r, solvedFor: 'epsilon' };
  }
  if ((o.noise === undefined) === (o.rounds === undefined)) {
    throw new Error('with --target-epsilon, omit exactly one of --noise / --rounds (the one to solve for)');
  }
  if (o.noise === undefined) {
    const r = solveNoiseMultiplier({ targetEpsilon: o.targetEpsilon, q: o.q, steps: o.rounds!, delta: o.delta });
    return { ...base, rounds: o.rounds!, ...r, solvedFor: 'noise' };
  }
  const r = solveMaxSteps({ targetEpsilon: o.targetEpsilon, q: o.q, noiseMultiplier: o.noise, delta: o.delta });
  return {
    ...base,
    noiseMultiplier: o.noise,
    rounds: r.steps,
    epsilon: r.epsilon,
    bestOrder: r.bestOrder,
    solvedFor: 'rounds',
  };
}

export function format(r: PrivacyResult): string {
  const lines = [
    `q (sampling rate): ${r.q}`,
    `noise multiplier:  ${r.noiseMultiplier}${r.solvedFor === 'noise' ? '  (solved)' : ''}`,
    `rounds:            ${r.rounds}${r.solvedFor === 'rounds' ? '  (solved: most rounds within the target)' : ''}`,
    `delta:             ${r.delta}`,
    `epsilon:           ${r.epsilon}`,
    `best order:        ${r.bestOrder}`,
  ];
  return lines.join('\n') + '\n';
}

export function buildProgram(): Command {
  return new Command('privacy')
    .description(
      '(ε, δ) of the Poisson-sampled Gaussian mechanism by RDP accounting (Opacus orders, improved conversion)',
    )
    .requiredOption(
      '--q <rate>',
      'client sampling rate per round, in (0, 1]',
      num('--q', (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
    )
    .option(
      '--noise <z>',
      'noise multiplier z (noise std / clip norm)',
      num('--noise', (x) => x > 0, 'a positive number'),
    )
    .option(
      '--rounds <n>',
      'number of rounds',
      num('--rounds', (x) => Number.isInteger(x) && x >= 1, 'a positive integer'),
    )
    .requiredOption(
      '--delta <delta>',
      'target δ, in (0, 1)',
      num('--delta', (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    )
    .option(
      '--target-epsilon <eps>',
      'solve for the omitted --noise or --rounds so that ε ≤ this',
      num('--target-epsilon', (x) => x > 0, 'a positive number'),
    )
    .option('--json', 'print the result as JSON')
    .action(function (this: Command) {
      const o = this.opts<Opts>();
      let r: PrivacyResult;
      try {
        r = evaluate(o);
      } catch (e) {
        this.error(`error: ${(e as Error).message}`);
      }
      process.stdout.write(o.json ? JSON.stringify(r) + '\n' : format(r));
    });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildProgram().parse(process.argv);
}
