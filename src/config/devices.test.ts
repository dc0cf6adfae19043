import { parseDevicesYaml } from './devices';
import { matchDevice } from '../classify/devices';

describe('devices configuration', () => {
  it('parses firewalls, IPS and load balancers with IPv4 and IPv6 networks', () => {
    const r = parseDevicesYaml(`devices:
  - name: edge-fw
    kind: firewall
    mode: reject
    networks: [10.1.0.0/16, "2001:db8::/32"]
    hops: 3
  - name: lb
    kind: load_balancer
    mode: proxy
    networks: [192.0.2.10]
`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.devices.map((d) => [d.name, d.kind, d.mode, d.networks.map((n) => n.text), d.hops])).toEqual([
      ['edge-fw', 'firewall', 'reject', ['10.1.0.0/16', '2001:db8::/32'], 3],
      ['lb', 'load_balancer', 'proxy', ['192.0.2.10'], undefined],
    ]);
    expect(matchDevice(r.devices, '10.1.200.7', '8.8.8.8', 3)?.device.name).toBe('edge-fw');
    expect(matchDevice(r.devices, '8.8.8.8', '2001:db8:1::5', undefined)?.covers).toBe('target');
    expect(matchDevice(r.devices, '10.1.200.7', '8.8.8.8', 7)).toBeUndefined(); // hops do not match
    expect(matchDevice(r.devices, '10.2.0.1', '192.0.2.11', undefined)).toBeUndefined();
  });

  it('reports every problem, naming the field', () => {
    const r = parseDevicesYaml(`devices:
  - name: ""
    kind: router
    mode: reject
    networks: [10.0.0.0/33, "2001:db8::/129", nonsense]
    hops: -1
    colour: red
  - kind: ips
    mode: bypass
`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const fields = r.errors.map((e) => e.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining([
        'devices[0].colour',
        'devices[0].name',
        'devices[0].kind',
        'devices[0].networks[0]',
        'devices[0].networks[1]',
        'devices[0].networks[2]',
        'devices[0].hops',
        'devices[1].name',
        'devices[1].networks',
      ]),
    );
  });

  it('rejects duplicate names and non-YAML, accepts an empty file', () => {
    const dup = parseDevicesYaml('- {name: a, kind: ips, mode: bypass, networks: [10.0.0.0/8]}\n- {name: a, kind: ips, mode: bypass, networks: [10.0.0.0/8]}\n');
    expect(dup.ok ? [] : dup.errors).toEqual(["devices[1].name: duplicate device name 'a'"]);
    expect(parseDevicesYaml('devices: [').ok).toBe(false);
    expect(parseDevicesYaml('')).toEqual({ ok: true, devices: [] });
  });
});
