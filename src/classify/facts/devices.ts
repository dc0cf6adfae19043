/**
 * DeviceFacts: the configured device (devices.ts) that explains a middlebox RST, or a reject-mode
 * firewall / IPS on the path of a refused SYN.
 */
import type { DeviceFacts, RstHeaderFacts, RstPositionFacts, Side } from '../../domain';
import { matchDevice, type Device, type DeviceMatch } from '../devices';
import type { FactInput } from './input';

function sideIp(input: FactInput, side: Side): string {
  return side === 'originator' ? input.conn.origH : input.conn.respH;
}

export function deviceFacts(input: FactInput, positions: RstPositionFacts, rstHeaders: RstHeaderFacts, devices: readonly Device[]): DeviceFacts {
  const c = input.conn;
  const { rstFromMiddlebox, synRstWithoutAck, rstHops } = rstHeaders;
  // The device is matched against the deciding RST's claimed sender (a forged RST may claim the other side).
  const claimed = input.decidingSide;
  const senderIp = claimed === undefined ? c.respH : sideIp(input, claimed);
  const targetIp = claimed === 'responder' ? c.origH : claimed === 'originator' ? c.respH : c.origH;
  let match: DeviceMatch | undefined;
  if (rstFromMiddlebox || synRstWithoutAck) match = matchDevice(devices, senderIp, targetIp, rstHops);
  const rejectMatch = positions.rstAnswersSyn
    ? matchDevice(devices, c.respH, c.origH, rstHops, (d) => d.mode === 'reject' && (d.kind === 'firewall' || d.kind === 'ips'))
    : undefined;
  const attributed = match ?? rejectMatch;
  return {
    deviceName: attributed?.device.name,
    deviceKind: attributed?.device.kind,
    deviceMode: attributed?.device.mode,
    deviceNetwork: attributed?.network,
    deviceExplainsMiddlebox: rstFromMiddlebox && match !== undefined,
    rejectDeviceCoversPath: rejectMatch !== undefined,
  };
}
