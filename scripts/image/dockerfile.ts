/**
 * Reads the parts of the repository's Dockerfile that `make image` repeats: what the build stage copies
 * from the context, and the final stage's environment, user, ports, entrypoint and copied paths. Only
 * the instructions this Dockerfile uses are understood; anything else in the final stage is an error,
 * so a new instruction cannot be silently left out of the image `make image` writes.
 */

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

/** A COPY or a RUN, in the order the stage has them. */
export type Step = ({ kind: 'copy' } & Copy) | { kind: 'run'; command: string };

export interface Stage {
  name?: string;
  base: string;
  workdir: string;
  steps: Step[];
  env: Record<string, string>;
  user?: string;
  expose: string[];
  entrypoint?: string[];
}

export interface Dockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

/** Joins continuation lines and drops comments and blank lines. */
function instructions(text: string): string[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/** ENV a=1 b="two words" → { a: '1', b: 'two words' } (the key=value form only). */
function parseEnv(rest: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of rest.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) env[m[1]!] = m[3] ?? m[2]!;
  return env;
}

function parseCopy(rest: string): Copy {
  const words = rest.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    else throw new Error(`Dockerfile: COPY flag ${flag} is not supported by make image`);
  }
  const dest = words.pop();
  if (!dest || words.length === 0) throw new Error(`Dockerfile: cannot read COPY ${rest}`);
  return { from, sources: words, dest };
}

export function parseDockerfile(text: string): Dockerfile {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of instructions(text)) {
    const [, keyword = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const stage = stages.at(-1);
    const op = keyword.toUpperCase();
    if (op === 'ARG' && !stage) {
      Object.assign(args, parseEnv(rest));
      continue;
    }
    if (op === 'FROM') {
      const [base = '', as, name] = rest.split(/\s+/);
      stages.push({
        base: base.replace(/\$\{(\w+)\}/g, (_, v: string) => args[v] ?? ''),
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        workdir: '/',
        steps: [],
        env: {},
        expose: [],
      });
      continue;
    }
    if (!stage) throw new Error(`Dockerfile: ${op} before FROM`);
    if (op === 'WORKDIR') stage.workdir = rest;
    else if (op === 'COPY') stage.steps.push({ kind: 'copy', ...parseCopy(rest) });
    else if (op === 'RUN') stage.steps.push({ kind: 'run', command: rest });
    else if (op === 'ENV') Object.assign(stage.env, parseEnv(rest));
    else if (op === 'USER') stage.user = rest;
    else if (op === 'EXPOSE') stage.expose.push(...rest.split(/\s+/));
    else if (op === 'ENTRYPOINT') stage.entrypoint = JSON.parse(rest) as string[];
    else throw new Error(`Dockerfile: ${op} is not supported by make image`);
  }
  return { args, stages };
}

export const copies = (stage: Stage): Copy[] =>
  stage.steps.flatMap((step) => (step.kind === 'copy' ? [step] : []));

export const runs = (stage: Stage): string[] =>
  stage.steps.flatMap((step) => (step.kind === 'run' ? [step.command] : []));
