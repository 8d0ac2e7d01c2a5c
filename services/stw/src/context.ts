import type { Output } from './output.ts';
import type { Settings } from './settings.ts';

/** What every command runs with. */
export interface Context {
  settings: Settings;
  output: Output;
}
