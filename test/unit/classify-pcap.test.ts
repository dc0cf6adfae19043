/**
 * `classify --pcap TRACE` (the capture's headers extracted in process) prints the same documents
 * as `classify --headers TRACE.headers.jsonl` (tshark's extraction of the same trace), on every
 * corpus case that has a conn.log and its pcap.
 */
import path from 'node:path';

import { classifyCli } from '../helpers/classify-cli';

const CORPUS = path.resolve(__dirname, '../fixtures/corpus');
const CASES: readonly [string, string][] = [
  ['pop3-rej', 'pop3'], ['modbus-p502-scan-rst', 'modbus-and-non-modbus-p502'], ['teredo-orphan-rst', 'Teredo'], ['retransmit-then-rst', 'retransmit-fast009'],
  ['pop3-fin-then-rst', 'bad-list-retr-crafted'], ['ldap-idle-client-rst', 'simpleauth'], ['ftp-auth-tls-server-rst', 'ftp-auth-tls'],
  ['http-to-ssh-server-rst', 'http-to-ssh'], ['irc-starttls-teardown-rst', 'irc-starttls'], ['imap-starttls-teardown-rst', 'imap-starttls'], ['ssh-server-rst', 'ssh'],
];

const classify = async (args: readonly string[]): Promise<string> => (await classifyCli(args)).out;

describe('classify --pcap equals classify --headers with the tshark JSON lines', () => {
  it.each(CASES)('%s', async (dir, trace) => {
    const conn = path.join(CORPUS, dir, 'conn.json');
    const fromPcap = await classify(['--conn', conn, '--pcap', path.join(CORPUS, dir, `${trace}.pcap`)]);
    const fromJsonl = await classify(['--conn', conn, '--headers', path.join(CORPUS, dir, `${trace}.headers.jsonl`)]);
    expect(fromPcap.split('\n').filter((l) => l !== '').length).toBeGreaterThan(0);
    expect(fromPcap).toEqual(fromJsonl);
    // The header evidence is used: some reset has a known origin.
    expect(fromPcap).toMatch(/"origin":"(endpoint|middlebox)"/);
  });
});
