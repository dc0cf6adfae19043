/**
 * `zeek-rst setup --kibana-url`: the templates land in the real Elasticsearch and the bundled
 * dashboards are posted to Kibana's saved objects import API. No Kibana can be installed here
 * (README "Dashboards"), so a node:http server on 127.0.0.1 plays the import endpoint: a protocol
 * check of what the command sends, not a stand-in for Elasticsearch or Kafka.
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { DASHBOARDS_FILE } from '../../src/sink/kibana';
import { indexNames } from '../../src/sink/templates';
import { esClient, spawnCli, testEnv, testNames } from './pipeline-harness';

interface Received {
  readonly url: string;
  readonly xsrf: string | undefined;
  readonly body: string;
}

describe('zeek-rst setup --kibana-url', () => {
  it('installs the template (with the configured refresh interval) and aliases, then imports every saved object of the bundled NDJSON', async () => {
    const objects = readFileSync(DASHBOARDS_FILE, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { id: string; type: string });
    const received: Received[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const xsrf = req.headers['kbn-xsrf'];
        received.push({ url: req.url ?? '', xsrf: typeof xsrf === 'string' ? xsrf : undefined, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ success: true, successCount: objects.length, successResults: objects.map((o) => ({ type: o.type, id: o.id })) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    const n = testNames('setup');
    const names = indexNames(n.prefix);
    const es = esClient();
    try {
      const setup = spawnCli(['setup', '--kibana-url', `http://127.0.0.1:${address.port}`], testEnv(n, { ZEEK_RST_ES_REFRESH_INTERVAL_S: '30' }));
      const { code } = await setup.exited;
      expect({ code, stderr: setup.stderr() }).toEqual({ code: 0, stderr: '' });
      expect(setup.stdout()).toContain(`${objects.length} saved objects imported`);
      expect(setup.stdout()).toContain('zeek-rst-overview');

      expect(received).toHaveLength(1);
      expect(received[0]?.url).toBe('/api/saved_objects/_import?overwrite=true');
      expect(received[0]?.xsrf).toBeDefined();
      for (const o of objects) expect(received[0]?.body).toContain(`"id":"${o.id}"`);
      // The data views follow the configured prefix (ids unchanged).
      expect(received[0]?.body).toContain(`"title":"${n.prefix}-conn"`);
      expect(received[0]?.body).toContain(`"title":"${n.prefix}-firewall"`);
      expect(received[0]?.body).toContain(`"title":"${n.prefix}-scans"`);
      expect(received[0]?.body).not.toContain('"title":"zeek-rst-conn"');
      // The aliases exist (with the mapping) before the first document: Kibana's data views have fields.
      const aliases = await es.indices.getAlias({ name: `${names.connAlias},${names.firewallAlias}` });
      expect(Object.keys(aliases)).toEqual([names.connBootstrap]);
      const mapping = await es.indices.getFieldMapping({ index: names.connAlias, fields: 'rst.ts' });
      expect(JSON.stringify(mapping)).toContain('"type":"date"');

      const template = await es.indices.getIndexTemplate({ name: names.connTemplate });
      expect(template.index_templates.map((t) => t.name)).toEqual([names.connTemplate]);
      expect(template.index_templates[0]?.index_template.template?.settings?.index?.refresh_interval).toBe('30s');
      // An index the template creates takes it (the empty bootstrap index is one).
      const settings = await es.indices.getSettings({ index: names.connBootstrap, name: 'index.refresh_interval' });
      expect(settings[names.connBootstrap]?.settings?.index?.refresh_interval).toBe('30s');
      expect(await es.indices.exists({ index: names.scansIndex })).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      // setup creates the scans index and the empty bootstrap index; the daily conn indices appear on the first write.
      await es.indices.delete({ index: `${names.scansIndex},${names.connBootstrap}` }, { ignore: [404] });
      await es.indices.deleteIndexTemplate({ name: names.connTemplate }, { ignore: [404] });
      await es.close();
    }
  });
});
