import { notBuiltYet } from './main';

// Placeholder: replaced by the issue that builds `zeek-rst produce`.
export function run(_argv: readonly string[]): Promise<number> {
  return Promise.resolve(notBuiltYet('produce'));
}
