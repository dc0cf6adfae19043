/**
 * `npm run stack -- up [--fresh] | down | status | reset`: the local Kafka + Elasticsearch that
 * the integration tests and the demo use, resolved through Maven into .cache/ and bound to
 * 127.0.0.1. See README, "Local stack".
 */
import { parseArgs } from 'node:util';
import { ensureStackUp, resetStack, stackStatus, stopStack, StackError } from './stack/stack';

const USAGE = `Usage: npm run stack -- <command> [--secure]

  up [--fresh]  start Kafka and Elasticsearch (or reuse them when already up) and print their addresses;
                --fresh stops them and deletes their data first
  down          stop the processes that 'up' started
  status        show each service's pid, address, health and listening sockets
  reset         stop both and delete their data (topics, indices)

  --secure      the secure profile instead (a second pair, can run beside the plain one): Kafka on
                SASL_SSL (SCRAM-SHA-512, ACLs), Elasticsearch with security and TLS, a test CA;
                credentials in .cache/secure/credentials.json, the pipeline's API key in
                .cache/secure/es-pipeline-api-key (README, "Production")

Environment: ZEEK_RST_STACK_KAFKA_PORT (19092), ZEEK_RST_STACK_KAFKA_CONTROLLER_PORT (kafka port + 1),
ZEEK_RST_STACK_ES_PORT (19200), ZEEK_RST_STACK_ES_TRANSPORT_PORT (19300), ZEEK_RST_STACK_TIMEOUT_S (240);
secure profile: ZEEK_RST_STACK_SECURE_KAFKA_PORT (19094), ZEEK_RST_STACK_SECURE_KAFKA_CONTROLLER_PORT (+1),
ZEEK_RST_STACK_SECURE_ES_PORT (19201), ZEEK_RST_STACK_SECURE_ES_TRANSPORT_PORT (19301).`;

const log = (line: string): void => {
  process.stderr.write(`stack: ${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { fresh: { type: 'boolean', default: false }, secure: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  const [command, ...extra] = positionals;
  if (values.help || command === undefined || extra.length > 0) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const profile = values.secure ? 'secure' : 'plain';
  switch (command) {
    case 'up': {
      const { endpoints, secure } = await ensureStackUp({ fresh: values.fresh, log, profile });
      process.stdout.write(`ZEEK_RST_KAFKA_BROKERS=${endpoints.kafkaBrokers.join(',')}\nZEEK_RST_ES_NODE=${endpoints.esUrl}\n`);
      if (secure !== undefined) {
        // Paths only: the secrets stay in the credentials file.
        process.stdout.write(`ZEEK_RST_KAFKA_CA_FILE=${secure.caFile}\nZEEK_RST_ES_CA_FILE=${secure.caFile}\nZEEK_RST_ES_API_KEY_FILE=${secure.pipelineApiKeyFile}\n# users and passwords: ${secure.credentialsFile}\n`);
      }
      return 0;
    }
    case 'down':
      await stopStack({ log, profile });
      return 0;
    case 'reset':
      await resetStack({ log, profile });
      return 0;
    case 'status': {
      const statuses = await stackStatus({ profile });
      for (const s of statuses) {
        const listening = s.listeners.map((l) => `${l.address}:${l.port}`).join(' ');
        process.stdout.write(
          `${s.service.padEnd(14)} ${s.state.padEnd(14)} pid ${String(s.pid ?? '-').padEnd(8)} ${s.address}` +
            `${listening === '' ? '' : `  listening: ${listening}`}\n`,
        );
      }
      return statuses.every((s) => s.state === 'healthy') ? 0 : 1;
    }
    default:
      process.stderr.write(`stack: unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`stack: ${err instanceof StackError || err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
