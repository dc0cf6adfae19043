/**
 * The three stack profiles (scripts/stack/config.ts) run at once during `npm test`: nothing one of
 * them binds, writes or locks may be another's.
 */
import { createStackConfig, defaultProfile, stackEndpoints, type StackProfile } from '../../scripts/stack/config';

const PROFILES: readonly StackProfile[] = ['plain', 'secure', 'outage'];
const ROOT = '/srv/zeek-rst';

describe('stack profiles', () => {
  const configs = PROFILES.map((p) => createStackConfig(ROOT, {}, p));

  it('share no port, folder, pid file, lock or process marker', () => {
    // Within a profile a value may repeat (a node's marker is its data folder); across, none may.
    const owned = configs.map((c) => [...new Set([
      c.kafka.port, c.kafka.controllerPort, c.elasticsearch.port, c.elasticsearch.transportPort,
      c.kafka.home, c.kafka.dataDir, c.kafka.pidFile, c.kafka.marker,
      c.elasticsearch.confDir, c.elasticsearch.dataDir, c.elasticsearch.logsDir, c.elasticsearch.pidFile, c.elasticsearch.marker,
      c.lockDir,
    ])]);
    const all = owned.flat();
    expect(new Set(all).size).toBe(all.length);
  });

  it('share the downloads: Maven repository, broker jars, Elasticsearch distribution', () => {
    for (const c of configs) {
      expect([c.m2Dir, c.kafka.libDir, c.elasticsearch.distDir]).toEqual([configs[0]?.m2Dir, configs[0]?.kafka.libDir, configs[0]?.elasticsearch.distDir]);
    }
  });

  it('only the secure profile speaks TLS; the outage pair is plain on ports of its own', () => {
    expect(configs.map((c) => stackEndpoints(c))).toEqual([
      { kafkaBrokers: ['127.0.0.1:19092'], esUrl: 'http://127.0.0.1:19200' },
      { kafkaBrokers: ['127.0.0.1:19094'], esUrl: 'https://127.0.0.1:19201' },
      { kafkaBrokers: ['127.0.0.1:19096'], esUrl: 'http://127.0.0.1:19202' },
    ]);
    expect(createStackConfig(ROOT, { ZEEK_RST_STACK_OUTAGE_ES_PORT: '29202' }, 'outage').elasticsearch.port).toBe(29202);
  });

  it('a call naming no profile takes ZEEK_RST_STACK_PROFILE, and refuses an unknown one', () => {
    expect(defaultProfile({})).toBe('plain');
    expect(defaultProfile({ ZEEK_RST_STACK_PROFILE: 'outage' })).toBe('outage');
    expect(createStackConfig(ROOT, { ZEEK_RST_STACK_PROFILE: 'outage' }).profile).toBe('outage');
    expect(() => defaultProfile({ ZEEK_RST_STACK_PROFILE: 'staging' })).toThrow(/not one of plain, secure, outage/);
  });
});
