/**
 * Middlebox devices (firewalls, IPS, load balancers) as classification sees them, and the
 * attribution of a middlebox RST to one of them (docs/verdicts.md#devices). Parsing and validation of
 * the YAML lives in config/devices.ts; this module is pure.
 */
import { cidrContains, parseIp, type Cidr } from './ip';

export const DEVICE_KINDS = ['firewall', 'ips', 'load_balancer'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** `reject`: answers refused SYNs / sessions with RST; `bypass`: a tap-mode device that cannot drop, so it injects RSTs; `drop`, `proxy`: other actions. */
export const DEVICE_MODES = ['reject', 'bypass', 'drop', 'proxy'] as const;
export type DeviceMode = (typeof DEVICE_MODES)[number];

export interface Device {
  readonly name: string;
  readonly kind: DeviceKind;
  readonly mode: DeviceMode;
  /** Networks behind (protected by) the device. */
  readonly networks: readonly Cidr[];
  /** Hop distance from the sensor, when known: a RST it sends arrives with this many hops. */
  readonly hops?: number;
}

export interface DeviceMatch {
  readonly device: Device;
  /** The network that matched, as written in the configuration. */
  readonly network: string;
  /** Which endpoint's address it covers. */
  readonly covers: 'sender' | 'target';
}

/**
 * The first device whose networks cover the claimed sender's or the target's address and whose
 * hop distance (when configured) equals the hops observed on the RST. Order of the configuration
 * breaks ties, so the result is deterministic.
 */
export function matchDevice(
  devices: readonly Device[],
  senderIp: string,
  targetIp: string,
  observedHops: number | undefined,
  filter: (d: Device) => boolean = () => true,
): DeviceMatch | undefined {
  const sender = parseIp(senderIp);
  const target = parseIp(targetIp);
  for (const device of devices) {
    if (!filter(device)) continue;
    if (device.hops !== undefined && observedHops !== undefined && device.hops !== observedHops) continue;
    for (const net of device.networks) {
      if (cidrContains(net, sender)) return { device, network: net.text, covers: 'sender' };
      if (cidrContains(net, target)) return { device, network: net.text, covers: 'target' };
    }
  }
  return undefined;
}
