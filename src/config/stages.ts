/**
 * The one function that turns the configuration into the settings of each stage. `run` and
 * `classify` both call it, so a threshold set in the YAML file reaches the same rule in both.
 */
import type { Device } from '../classify/devices';
import { parseCidr } from '../classify/ip';
import { DEFAULT_CLASSIFY_SETTINGS, type ClassifySettings } from '../classify/settings';
import { DEFAULT_CORRELATE_SETTINGS, type CorrelateSettings } from '../correlate/settings';
import type { DecodeOptions } from '../decode/validate';
import type { PipelineSettings } from '../pipeline';
import type { Config } from './schema';

export interface StageSettings {
  readonly decode: DecodeOptions;
  /** The settings of ONE correlation partition: its caps are the configured ones divided among the partitions. */
  readonly pipeline: PipelineSettings;
  /** Correlation partitions (src/partition.ts): `partitioning.partitions`, or 1 in direct mode. */
  readonly partitions: number;
}

/** Correlation partitions of a configuration: every instance and `classify` route records by them. */
export function partitionsOf(config: Config): number {
  return config.partitioning.mode === 'direct' ? 1 : config.partitioning.partitions;
}

/** One partition's share of a cap (at least 1): a process holding every partition holds the configured cap. */
const share = (cap: number, partitions: number): number => Math.max(1, Math.ceil(cap / partitions));

export function correlateSettingsOf(c: Config['correlate'], twoMslS: number, partitions = 1): CorrelateSettings {
  return {
    ...DEFAULT_CORRELATE_SETTINGS,
    graceUs: c.graceMs * 1000,
    lateWindowUs: c.lateWindowMs * 1000,
    headerBeforeUs: c.headerBeforeMs * 1000,
    headerAfterUs: c.headerAfterMs * 1000,
    maxPendingConns: share(c.maxPendingConns, partitions),
    maxEmittedConns: share(c.maxEmittedConns, partitions),
    maxWeirdUids: share(c.maxWeirdUids, partitions),
    maxWeirdsPerUid: c.maxWeirdsPerUid,
    maxHeaders: share(c.maxHeaders, partitions),
    maxHosts: share(c.maxHosts, partitions),
    hostSamples: c.hostSamples,
    maxRecentCloses: share(c.maxRecentCloses, partitions),
    // TIME_WAIT is a classify threshold, but the closes it needs are kept by the correlator.
    closeMemoryUs: twoMslS * 1_000_000,
  };
}

export function classifySettingsOf(c: Config['classify']): ClassifySettings {
  return {
    ...DEFAULT_CLASSIFY_SETTINGS,
    idleThresholdS: c.idleThresholdS,
    idleThresholdByPortS: c.idleThresholdByPortS,
    idleMaxPacketsPerSide: c.idleMaxPacketsPerSide,
    ttlDeltaThreshold: c.ttlDeltaThreshold,
    rstSeqSpread: c.rstSeqSpread,
    rstSpreadWindowS: c.rstSpreadWindowS,
    twoMslS: c.twoMslS,
    connectScanMaxDurationS: c.connectScanMaxDurationS,
    scanWindowS: c.scanWindowS,
    scanPortThreshold: c.scanPortThreshold,
    scanHostThreshold: c.scanHostThreshold,
  };
}

export function decodeOptionsOf(config: Config): DecodeOptions {
  return {
    allowCanonified: config.decode.allowCanonified,
    maxMessageBytes: config.decode.maxMessageBytes,
    ...(config.observer.name === undefined ? {} : { observer: config.observer.name }),
  };
}

/** Stage settings from the configuration; `devices` is the parsed `classify.devicesFile`. */
export function stageSettingsOf(config: Config, devices: readonly Device[]): StageSettings {
  const partitions = partitionsOf(config);
  return {
    decode: decodeOptionsOf(config),
    partitions,
    pipeline: {
      correlate: correlateSettingsOf(config.correlate, config.classify.twoMslS, partitions),
      classify: classifySettingsOf(config.classify),
      devices,
      localNetworks: config.network.localNetworks.flatMap((n) => parseCidr(n) ?? []),
    },
  };
}
