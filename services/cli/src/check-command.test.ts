import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCheck } from './check-command.ts';

describe('stowage check arguments', () => {
  it('refuses bad usage with exit code 2 before touching anything', async () => {
    for (const args of [
      ['--orphan-grace', 'soon'],
      ['--stuck-after', '-1h'],
      ['--frobnicate'],
      ['--tenant'],
      ['--record', '--tenant', 'acme'],
      ['--max-details', 'many'],
      ['stray'],
    ]) {
      assert.equal(await runCheck(args), 2, args.join(' '));
    }
  });
});
