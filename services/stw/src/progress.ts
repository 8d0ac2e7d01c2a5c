import cliProgress from 'cli-progress';
import { formatBytes } from './format.ts';
import type { Output } from './output.ts';

/** One file on its way. */
export interface Transfer {
  update(loaded: number): void;
  /** The file is finished (or given up): its bar goes, its bytes count as done. */
  end(): void;
}

/** How transfers are shown: bars on a terminal, finished files as plain lines elsewhere. */
export interface Progress {
  start(name: string, total: number): Transfer;
  /** A line of the answer, above the bars while they run. */
  log(text: string): void;
  /** A line about a failure: above the bars too, else on stderr. */
  problem(text: string): void;
  stop(): void;
}

/** What the whole run moves, for the total bar. */
export interface Totals {
  bytes: number;
  files: number;
}

const NAME_WIDTH = 28;
const fitName = (name: string) =>
  name.length > NAME_WIDTH ? `…${name.slice(-(NAME_WIDTH - 1))}` : name.padEnd(NAME_WIDTH);

/** Bars on a terminal, plain lines when stdout is not one, and nothing but the document with `--json`. */
export function progressFor(output: Output, totals: Totals): Progress {
  return output.json || !output.stdout.isTTY ? plainLines(output) : terminalBars(output.stdout, totals);
}

/** Finished files as lines, no bars: for a pipe, a file, or when stdout carries the bytes themselves. */
export function plainLines(output: Output): Progress {
  return {
    start: () => ({ update() {}, end() {} }),
    log: (text) => output.line(text),
    problem: (text) => output.problem(text),
    stop() {},
  };
}

function terminalBars(stream: NodeJS.WriteStream, totals: Totals): Progress {
  const bars = new cliProgress.MultiBar(
    {
      stream,
      hideCursor: true,
      // stw handles Ctrl-C itself (to save where uploads stand) and stops the bars then.
      gracefulExit: false,
      barsize: 24,
      format: (options, params, payload: { name: string; files?: string }) =>
        [
          fitName(payload.name),
          cliProgress.Format.BarFormat(params.progress, options),
          `${String(Math.floor(params.progress * 100)).padStart(3)}%`,
          `${formatBytes(params.value)} / ${formatBytes(params.total)}`,
          payload.files ?? '',
        ].join('  '),
    },
    cliProgress.Presets.shades_classic,
  );
  let finishedBytes = 0;
  let finishedFiles = 0;
  const inFlight = new Map<Transfer, number>();
  const filesText = () => `${finishedFiles}/${totals.files} files`;
  // One file's bar is its total.
  const total =
    totals.files > 1 ? bars.create(totals.bytes, 0, { name: 'total', files: filesText() }) : undefined;
  const updateTotal = () =>
    total?.update(finishedBytes + [...inFlight.values()].reduce((a, b) => a + b, 0), { files: filesText() });

  return {
    start(name, size) {
      const bar = bars.create(size, 0, { name });
      const transfer: Transfer = {
        update(loaded) {
          bar.update(loaded);
          inFlight.set(transfer, loaded);
          updateTotal();
        },
        end() {
          inFlight.delete(transfer);
          finishedBytes += size;
          finishedFiles++;
          bars.remove(bar);
          updateTotal();
        },
      };
      inFlight.set(transfer, 0);
      return transfer;
    },
    log: (text) => bars.log(`${text}\n`),
    // stderr would land in the middle of the bars on the same terminal.
    problem: (text) => bars.log(`${text}\n`),
    stop() {
      bars.update(); // writes the lines logged since the last frame
      bars.stop();
    },
  };
}
