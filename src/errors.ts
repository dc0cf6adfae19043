/**
 * Errors for conditions that cannot become data: bad configuration, an unreachable service,
 * a missing schema file. Bad *input* is never thrown: it becomes a DeadLetter (domain.ts).
 * Callers branch on `code`, never on the message.
 */

export const ERROR_CODES = {
  ZRST_CONFIG_INVALID: { retriable: false, message: 'the configuration is invalid' },
  ZRST_USAGE: { retriable: false, message: 'the command line is invalid' },
  ZRST_FILE_UNREADABLE: { retriable: false, message: 'a file could not be read' },
  ZRST_SCHEMA_INVALID: { retriable: false, message: 'an Avro schema could not be loaded' },
  ZRST_ES_UNAVAILABLE: { retriable: true, message: 'Elasticsearch did not answer' },
  ZRST_ES_REJECTED: { retriable: false, message: 'Elasticsearch rejected a request' },
  ZRST_ES_AUTH_FAILED: { retriable: false, message: 'Elasticsearch refused the credentials (check elasticsearch.apiKey or username/password)' },
  ZRST_ES_NOT_AUTHORIZED: { retriable: false, message: 'Elasticsearch denied a request: the user or API key lacks a privilege (README, Production)' },
  ZRST_KAFKA_UNAVAILABLE: { retriable: true, message: 'Kafka did not answer' },
  ZRST_KAFKA_AUTH_FAILED: { retriable: false, message: 'Kafka refused the credentials: SASL authentication failed (check kafka.saslUsername, the password and kafka.saslMechanism)' },
  ZRST_KAFKA_NOT_AUTHORIZED: { retriable: false, message: 'Kafka denied an operation: an ACL is missing (README, Production)' },
  ZRST_TLS_UNTRUSTED: { retriable: false, message: 'the server\'s TLS certificate is not trusted (check the caFile setting)' },
  ZRST_KIBANA_UNAVAILABLE: { retriable: true, message: 'Kibana did not answer' },
  ZRST_KIBANA_REJECTED: { retriable: false, message: 'Kibana rejected the saved objects import' },
  ZRST_STACK_FAILED: { retriable: false, message: 'the local stack could not be started' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ZeekRstError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const base = ERROR_CODES[code];
    super(detail === undefined ? base.message : `${base.message}: ${detail}`, options);
    this.name = 'ZeekRstError';
    this.code = code;
    this.retriable = base.retriable;
  }
}

export function isZeekRstError(err: unknown, code?: ErrorCode): err is ZeekRstError {
  return err instanceof ZeekRstError && (code === undefined || err.code === code);
}
