/**
 * The `zeek-rst` command: dispatches to one module per subcommand. Each module parses its own
 * arguments (node:util parseArgs), builds the objects it needs and wires them; see docs/architecture.md.
 */
import { ZeekRstError, isZeekRstError } from '../errors';
import { installGroupingFix } from '../source/kafkajs-grouping';

// Before any command loads kafkajs, which loads its producer at once (source/kafkajs-grouping.ts).
installGroupingFix();

interface Command {
  readonly summary: string;
  readonly load: () => Promise<{ run: (argv: readonly string[]) => Promise<number> }>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  classify: { summary: 'classify Zeek logs offline; print enriched documents (JSON lines)', load: () => import('./classify') },
  run: { summary: 'the pipeline: Kafka -> decode -> correlate -> classify -> Elasticsearch', load: () => import('./run') },
  setup: { summary: 'install index templates and aliases (and Kibana dashboards with --kibana-url)', load: () => import('./setup') },
  scans: { summary: '(re)compute scan summaries for a time range from the indexed documents', load: () => import('./scans') },
  retention: { summary: 'list (--dry-run) or delete the expired daily conn indices of this deployment', load: () => import('./retention') },
  produce: { summary: 'load Zeek logs or header files into a Kafka topic', load: () => import('./produce') },
  headers: { summary: 'sampled packet headers from pcap/pcapng files or tcpdump, to Kafka, Avro or JSON lines', load: () => import('./headers') },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ['Usage: zeek-rst <command> [options]', '', 'Commands:', ...lines, '', 'Run `zeek-rst <command> --help` for the options of a command.'].join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    process.exitCode = name === undefined ? 2 : 0;
    return;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`zeek-rst: unknown command '${name}'\n\n${usage()}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    const module = await command.load();
    process.exitCode = await module.run(rest);
  } catch (err: unknown) {
    if (isZeekRstError(err)) {
      process.stderr.write(`zeek-rst ${name}: ${err.message} (${err.code})\n`);
      process.exitCode = err.code === 'ZRST_USAGE' ? 2 : 1;
      return;
    }
    throw err;
  }
}

export function notBuiltYet(command: string): never {
  throw new ZeekRstError('ZRST_USAGE', `'${command}' is not built yet`);
}
