#!/usr/bin/env node
/**
 * `stw`, the Stowage command line: `stw login`, then `stw upload`, `ls`, `get`, `rm`, `rm-bucket`,
 * `usage`, `sign`; `stw --help` for the rest.
 */
import { run } from './program.ts';

process.exitCode = await run(process.argv, process.env);
