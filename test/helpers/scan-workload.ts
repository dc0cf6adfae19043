/**
 * A small deterministic scan workload: Zeek conn records (JSON, as zeek-kafka ships them) of
 * port scanners, sweepers, a source doing both, sources just under the thresholds, backscatter
 * victims that must never count as scanners, and ordinary traffic. Every record is fixed by its
 * index (no randomness), so the expected scan summaries can be worked out by hand from the
 * description below (test/integration/scans.test.ts lists them).
 *
 * Windows are the default 300 s, aligned to the epoch: W0 = [T0, T0 + 300 s), W1 = [T0 + 300 s, T0 + 600 s).
 * Thresholds are the defaults: 15 ports on one host, 25 hosts.
 *
 * The shapes, as Zeek logs them (history upper case = originator):
 * - `ShR`, RSTO: SYN, SYN-ACK, originator RST: a half-open (SYN scan) probe of an open port.
 * - `ShAR`, RSTO, no payload, 10 ms: a connect-scan probe.
 * - `Sr`, REJ: SYN answered by RST: a closed port.
 * - `S`, S0: an unanswered SYN.
 * - `R`, OTH, no SYN: an unsolicited RST (backscatter).
 * - `ShADadFf`, SF, payload: an ordinary connection (not a probe).
 */

export const T0_S = 1_711_033_200; // 2024-03-21T15:00:00Z, a multiple of 300 s
export const WINDOW_S = 300;

type Shape = 'half_open' | 'connect' | 'closed' | 'unanswered' | 'lone_rst' | 'normal';

interface Conn {
  readonly tsS: number;
  readonly orig: string;
  readonly origP: number;
  readonly resp: string;
  readonly respP: number;
  readonly shape: Shape;
}

const SHAPES: Readonly<Record<Shape, Readonly<Record<string, unknown>>>> = {
  half_open: { conn_state: 'RSTO', history: 'ShR', duration: 0.001, orig_bytes: 0, resp_bytes: 0, orig_pkts: 2, orig_ip_bytes: 84, resp_pkts: 1, resp_ip_bytes: 44 },
  connect: { conn_state: 'RSTO', history: 'ShAR', duration: 0.01, orig_bytes: 0, resp_bytes: 0, orig_pkts: 3, orig_ip_bytes: 124, resp_pkts: 1, resp_ip_bytes: 44 },
  closed: { conn_state: 'REJ', history: 'Sr', duration: 0.001, orig_bytes: 0, resp_bytes: 0, orig_pkts: 1, orig_ip_bytes: 44, resp_pkts: 1, resp_ip_bytes: 40 },
  unanswered: { conn_state: 'S0', history: 'S', orig_bytes: 0, resp_bytes: 0, orig_pkts: 1, orig_ip_bytes: 44, resp_pkts: 0, resp_ip_bytes: 0 },
  lone_rst: { conn_state: 'OTH', history: 'R', orig_bytes: 0, resp_bytes: 0, orig_pkts: 1, orig_ip_bytes: 40, resp_pkts: 0, resp_ip_bytes: 0 },
  normal: { conn_state: 'SF', history: 'ShADadFf', duration: 0.2, orig_bytes: 120, resp_bytes: 900, orig_pkts: 6, orig_ip_bytes: 440, resp_pkts: 5, resp_ip_bytes: 1160 },
};

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Every conn of the workload, in a fixed order (interleaved by time when produced). */
function conns(): Conn[] {
  const w0 = (s: number): number => T0_S + s;
  const w1 = (s: number): number => T0_S + WINDOW_S + s;
  return [
    // 10.1.0.1, W0: port scan of 10.2.0.1, ports 1..20: 1-10 half-open, 11-15 closed, 16-20 unanswered.
    ...range(20).map((i): Conn => ({ tsS: w0(10 + i), orig: '10.1.0.1', origP: 40000, resp: '10.2.0.1', respP: i + 1, shape: i < 10 ? 'half_open' : i < 15 ? 'closed' : 'unanswered' })),
    // 10.1.0.2, W1: connect scan of 10.2.0.2, ports 8000..8015 (16), plus 3 ordinary connections to 10.2.0.9:443.
    ...range(16).map((i): Conn => ({ tsS: w1(20 + i), orig: '10.1.0.2', origP: 41000 + i, resp: '10.2.0.2', respP: 8000 + i, shape: 'connect' })),
    ...range(3).map((i): Conn => ({ tsS: w1(60 + i), orig: '10.1.0.2', origP: 42000 + i, resp: '10.2.0.9', respP: 443, shape: 'normal' })),
    // 10.1.0.3, W0: sweep of 10.3.0.1..30 on 445, unanswered SYNs, one source port (as nmap's SYN scan does).
    ...range(30).map((i): Conn => ({ tsS: w0(30 + i), orig: '10.1.0.3', origP: 50000, resp: `10.3.0.${i + 1}`, respP: 445, shape: 'unanswered' })),
    // 10.1.0.4, W0: sweep of 10.3.1.1..26 on 22, refused.
    ...range(26).map((i): Conn => ({ tsS: w0(100 + i), orig: '10.1.0.4', origP: 43000 + i, resp: `10.3.1.${i + 1}`, respP: 22, shape: 'closed' })),
    // 10.1.0.5, W1: 15 ports (1000..1014) of 10.4.0.1 half-open, and port 80 of 10.4.0.2..25 unanswered: 25 hosts.
    ...range(15).map((i): Conn => ({ tsS: w1(100 + i), orig: '10.1.0.5', origP: 44000 + i, resp: '10.4.0.1', respP: 1000 + i, shape: 'half_open' })),
    ...range(24).map((i): Conn => ({ tsS: w1(120 + i), orig: '10.1.0.5', origP: 45000 + i, resp: `10.4.0.${i + 2}`, respP: 80, shape: 'unanswered' })),
    // 10.1.0.6: 10 ports of 10.5.0.1 in the last seconds of W0 and 10 more in W1: no window reaches 15.
    ...range(10).map((i): Conn => ({ tsS: w0(290 + i), orig: '10.1.0.6', origP: 46000 + i, resp: '10.5.0.1', respP: 2000 + i, shape: 'closed' })),
    ...range(10).map((i): Conn => ({ tsS: w1(i), orig: '10.1.0.6', origP: 46100 + i, resp: '10.5.0.1', respP: 2010 + i, shape: 'closed' })),
    // 10.1.0.7, W0: 14 ports of 10.6.0.1 and 24 hosts: one short of each threshold.
    ...range(14).map((i): Conn => ({ tsS: w0(150 + i), orig: '10.1.0.7', origP: 47000 + i, resp: '10.6.0.1', respP: 3000 + i, shape: 'closed' })),
    ...range(23).map((i): Conn => ({ tsS: w0(170 + i), orig: '10.1.0.7', origP: 47100 + i, resp: `10.6.0.${i + 2}`, respP: 3000, shape: 'unanswered' })),
    // 198.51.100.1, W0: a victim of a spoofed SYN flood answering from port 80: lone RSTs to 30 peers,
    // and 26 RSTs answering SYN-ACKs to SYNs forged in its name (ShR from port 80): without the
    // backscatter rule, a 26-host "sweep".
    ...range(30).map((i): Conn => ({ tsS: w0(200 + i), orig: '198.51.100.1', origP: 80, resp: `203.0.113.${i + 1}`, respP: 30000 + i, shape: 'lone_rst' })),
    ...range(26).map((i): Conn => ({ tsS: w0(240 + i), orig: '198.51.100.1', origP: 80, resp: `192.0.2.${i + 1}`, respP: 80, shape: 'half_open' })),
    // 198.51.100.2, W1: lone RSTs to 40 peers from ports 80 and 443 (alternating).
    ...range(40).map((i): Conn => ({ tsS: w1(200 + i), orig: '198.51.100.2', origP: i % 2 === 0 ? 80 : 443, resp: `203.0.114.${i + 1}`, respP: 31000 + i, shape: 'lone_rst' })),
    // 10.1.0.8, W0: 50 ordinary connections to 50 hosts: no probes.
    ...range(50).map((i): Conn => ({ tsS: w0(5 + i), orig: '10.1.0.8', origP: 48000 + i, resp: `10.7.0.${i + 1}`, respP: 443, shape: 'normal' })),
  ];
}

/** The workload as Zeek JSON conn records, one per message value, in time order. */
export function scanWorkload(): Buffer[] {
  return conns()
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.tsS - b.c.tsS || a.i - b.i)
    .map(({ c, i }) =>
      Buffer.from(
        JSON.stringify({
          ts: c.tsS + (i % 1000) / 1e6,
          uid: `CScanWl${String(i).padStart(4, '0')}`,
          'id.orig_h': c.orig,
          'id.orig_p': c.origP,
          'id.resp_h': c.resp,
          'id.resp_p': c.respP,
          proto: 'tcp',
          missed_bytes: 0,
          ...SHAPES[c.shape],
        }),
      ),
    );
}
