import { KafkaJSConnectionError, KafkaJSGroupCoordinatorNotFound, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError, Partitioners } from 'kafkajs';
import { resolveConfig } from '../config/load';
import { createRootLogger } from '../log';
import { captureLog } from '../../test/helpers/log-capture';
import { asKafkaError, connectKafka, isGroupMovedOn, isOutage } from './kafka';

// kafkajs's type declarations omit these constructors' parameters; the runtime takes them.
type Ctor = new (...args: unknown[]) => Error;
const Sasl = KafkaJSSASLAuthenticationError as unknown as Ctor;
const Protocol = KafkaJSProtocolError as unknown as Ctor;
const Retries = KafkaJSNumberOfRetriesExceeded as unknown as Ctor;
const NoCoordinator = KafkaJSGroupCoordinatorNotFound as unknown as Ctor;

describe('asKafkaError', () => {
  it('gives each refusal its stable code, also when a retrier wrapped it', () => {
    expect(asKafkaError(new Sasl('SASL SCRAM SHA512 authentication failed: invalid credentials'), 'x').code).toBe('ZRST_KAFKA_AUTH_FAILED');
    const denied = new Protocol({ message: 'Not authorized to access topics: [Topic authorization failed]', type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false });
    expect(asKafkaError(denied, 'x').code).toBe('ZRST_KAFKA_NOT_AUTHORIZED');
    expect(asKafkaError(new Retries(denied, { retryCount: 3, retryTime: 100 }), 'x').code).toBe('ZRST_KAFKA_NOT_AUTHORIZED');
    expect(asKafkaError(new NoCoordinator('Failed to find group coordinator'), 'x').code).toBe('ZRST_KAFKA_NOT_AUTHORIZED');
    const tls = new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', { broker: '127.0.0.1:9093', code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(asKafkaError(tls, 'connecting').code).toBe('ZRST_TLS_UNTRUSTED');
    expect(asKafkaError(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { code: 'ECONNREFUSED' }), 'x').code).toBe('ZRST_KAFKA_UNAVAILABLE');
  });

  it('names what was being done', () => {
    expect(asKafkaError(new Sasl('refused'), 'connecting the producer').message).toContain('connecting the producer: refused');
  });
});

describe('isOutage (a joined consumer that kafkajs gave up on is run again)', () => {
  it('is an outage: no connection, or no coordinator with every broker unreachable', () => {
    expect(isOutage(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isOutage(new NoCoordinator('Failed to find group coordinator'))).toBe(true);
    expect(isOutage(new Retries(new NoCoordinator('Failed to find group coordinator'), { retryCount: 5, retryTime: 100 }))).toBe(true);
  });

  it('is not an outage: a refusal, wrapped or not', () => {
    expect(isOutage(new Sasl('SASL SCRAM SHA512 authentication failed'))).toBe(false);
    const group = new Protocol({ message: 'Not authorized to access group', type: 'GROUP_AUTHORIZATION_FAILED', code: 30, retriable: false });
    expect(isOutage(group)).toBe(false);
    expect(isOutage(new Retries(group, { retryCount: 3, retryTime: 100 }))).toBe(false);
    expect(isOutage(new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toBe(false);
  });
});

describe('isGroupMovedOn (an offset commit refused by a rebalance is a warning, not a failure)', () => {
  const refusal = (type: string, code: number): Error => new Protocol({ message: `refused (${type})`, type, code, retriable: false });

  it('is the group moving on: a stale generation, an evicted member, a rebalance under way, wrapped or not', () => {
    expect(isGroupMovedOn(refusal('ILLEGAL_GENERATION', 22))).toBe(true);
    expect(isGroupMovedOn(refusal('UNKNOWN_MEMBER_ID', 25))).toBe(true);
    expect(isGroupMovedOn(new Retries(refusal('REBALANCE_IN_PROGRESS', 27), { retryCount: 5, retryTime: 100 }))).toBe(true);
  });

  it('is not: a refused ACL, an outage, a coordinator that moved', () => {
    expect(isGroupMovedOn(refusal('GROUP_AUTHORIZATION_FAILED', 30))).toBe(false);
    expect(isGroupMovedOn(refusal('NOT_COORDINATOR_FOR_GROUP', 16))).toBe(false);
    expect(isGroupMovedOn(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { code: 'ECONNREFUSED' }))).toBe(false);
  });
});

describe("kafkajs's log lines", () => {
  it("an idempotent producer's bounded retries are a debug line, not a warning at every start", async () => {
    const r = resolveConfig({ env: { ZEEK_RST_KAFKA_BROKERS: '127.0.0.1:1' }, readSecretFile: () => '' });
    if (!r.ok) throw new Error(r.problems.join('; '));
    const out = captureLog();
    const kafka = await connectKafka(r.config.kafka, createRootLogger({ level: 'debug', destination: out.stream }));
    kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    const limiting = out.lines().filter((l) => String(l['msg']).includes('Limiting retries for the idempotent producer'));
    expect(limiting.map((l) => l['level'])).toEqual([20]);
  });
});
