/**
 * Device configuration (docs/verdicts.md#devices): the firewalls, IPS and load balancers whose resets
 * zeek-rst should attribute. YAML, either a top-level list or under a `devices:` key:
 *
 *   devices:
 *     - name: edge-fw          # unique, shown as rst.device.name
 *       kind: firewall         # firewall | ips | load_balancer
 *       mode: reject           # reject | bypass | drop | proxy
 *       networks: [10.1.0.0/16, "2001:db8::/32"]   # networks behind the device (IPv4 and IPv6 CIDR)
 *       hops: 3                # optional: hop distance from the sensor
 *
 * Every problem is reported at once, each naming its field (`devices[1].networks[0]`). Unknown
 * keys are rejected. The parsed list is frozen.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DEVICE_KINDS, DEVICE_MODES, type Device, type DeviceKind, type DeviceMode } from '../classify/devices';
import { parseCidr, type Cidr } from '../classify/ip';
import { ZeekRstError } from '../errors';

export type DevicesResult = { readonly ok: true; readonly devices: readonly Device[] } | { readonly ok: false; readonly errors: readonly string[] };

const DEVICE_KEYS: ReadonlySet<string> = new Set(['name', 'kind', 'mode', 'networks', 'hops']);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function oneOf<T extends string>(values: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (values as readonly string[]).includes(v);
}

function parseDevice(raw: unknown, at: string, errors: string[]): Device | undefined {
  if (!isRecord(raw)) {
    errors.push(`${at}: expected a mapping with name, kind, mode, networks`);
    return undefined;
  }
  for (const key of Object.keys(raw)) if (!DEVICE_KEYS.has(key)) errors.push(`${at}.${key}: unknown key (allowed: ${[...DEVICE_KEYS].join(', ')})`);
  const before = errors.length;
  const { name, kind, mode, networks, hops } = raw;
  if (typeof name !== 'string' || name.trim() === '') errors.push(`${at}.name: expected a non-empty string`);
  if (!oneOf<DeviceKind>(DEVICE_KINDS, kind)) errors.push(`${at}.kind: expected one of ${DEVICE_KINDS.join(', ')}, got ${show(kind)}`);
  if (!oneOf<DeviceMode>(DEVICE_MODES, mode)) errors.push(`${at}.mode: expected one of ${DEVICE_MODES.join(', ')}, got ${show(mode)}`);
  const nets: Cidr[] = [];
  if (!Array.isArray(networks) || networks.length === 0) {
    errors.push(`${at}.networks: expected a non-empty list of CIDR networks (e.g. 10.0.0.0/8, 2001:db8::/32)`);
  } else {
    networks.forEach((n: unknown, i) => {
      const cidr = typeof n === 'string' ? parseCidr(n) : undefined;
      if (cidr === undefined) errors.push(`${at}.networks[${i}]: ${show(n)} is not an IPv4 or IPv6 CIDR network`);
      else nets.push(cidr);
    });
  }
  if (hops !== undefined && (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 0 || hops > 255)) {
    errors.push(`${at}.hops: expected an integer 0..255 (hop distance from the sensor), got ${show(hops)}`);
  }
  if (errors.length > before || typeof name !== 'string' || !oneOf<DeviceKind>(DEVICE_KINDS, kind) || !oneOf<DeviceMode>(DEVICE_MODES, mode)) return undefined;
  const device: Device = typeof hops === 'number' ? { name, kind, mode, networks: nets, hops } : { name, kind, mode, networks: nets };
  return Object.freeze(device);
}

/** Validates an already-parsed value (the `devices` key of the main configuration, or a whole devices file). */
export function parseDevices(value: unknown, path = 'devices'): DevicesResult {
  const list = isRecord(value) ? value.devices : value;
  if (isRecord(value)) {
    for (const key of Object.keys(value)) if (key !== 'devices') return { ok: false, errors: [`${key}: unknown key (a devices file holds only 'devices')`] };
  }
  if (list === undefined || list === null) return { ok: true, devices: Object.freeze([]) };
  if (!Array.isArray(list)) return { ok: false, errors: [`${path}: expected a list of devices`] };
  const errors: string[] = [];
  const devices: Device[] = [];
  const names = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const d = parseDevice(raw, `${path}[${i}]`, errors);
    if (d === undefined) return;
    if (names.has(d.name)) errors.push(`${path}[${i}].name: duplicate device name '${d.name}'`);
    names.add(d.name);
    devices.push(d);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, devices: Object.freeze(devices) };
}

export function parseDevicesYaml(text: string): DevicesResult {
  let value: unknown;
  try {
    value = parseYaml(text) as unknown;
  } catch (err) {
    return { ok: false, errors: [`not valid YAML: ${err instanceof Error ? err.message : String(err)}`] };
  }
  return parseDevices(value);
}

/** Reads and validates a devices file; throws ZRST_FILE_UNREADABLE / ZRST_CONFIG_INVALID naming every problem. */
export async function loadDevicesFile(file: string): Promise<readonly Device[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ZeekRstError('ZRST_FILE_UNREADABLE', `${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const result = parseDevicesYaml(text);
  if (!result.ok) throw new ZeekRstError('ZRST_CONFIG_INVALID', `${file}: ${result.errors.join('; ')}`);
  return result.devices;
}
