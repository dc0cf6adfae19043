/**
 * The engine: matches every rule against the facts, picks the highest weight, and fills the
 * evidence of every matching rule. It knows nothing about individual rules: adding a rule is a
 * row in rules/index.ts.
 */
import type { Classification, Correlated, DeviceAttribution, Evidence, FactValue, Facts, Phase, RstJudgement, RstStage, RstTag, ScannerFingerprint, Verdict } from '../domain';
import type { Device } from './devices';
import { deriveEvidence, type DerivedEvidence, type FactKey } from './facts';
import { isRst } from '../correlate/baseline';
import { headerSide, reasonText } from './rst-evidence';
import type { Rule } from './rule';
import { RULES } from './rules';
import type { ClassifySettings } from './settings';
import { VERDICT_MEANING, verdictsWhere } from './verdicts';

const PROBES: ReadonlySet<Verdict> = new Set(verdictsWhere('scanProbe'));

function resetsPhrase(resets: readonly RstJudgement[]): string {
  if (resets.length < 2) return '';
  const parts = resets.map((r) => `${r.side} ${r.origin}${r.signals.length === 0 ? '' : ` (${r.signals.map(reasonText).join(', ')})`}`);
  return `; sampled RSTs in order: ${parts.join(', ')}`;
}

function formatValue(v: Facts[FactKey]): string {
  if (v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  return String(v);
}

function toJsonValue(v: Facts[FactKey]): FactValue {
  if (v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? v : Math.round(v * 1e6) / 1e6;
  return v;
}

function isFactKey(facts: Facts, key: string): key is FactKey {
  return Object.hasOwn(facts, key);
}

/**
 * A template split once at its `{name}` placeholders: the text before each placeholder, the
 * placeholder's name, and the text after the last one (`tail`).
 */
interface CompiledTemplate {
  readonly parts: readonly { readonly text: string; readonly name: string }[];
  readonly tail: string;
}

const PLACEHOLDER = /\{(\w+)\}/g;
/** By rule object, so any rule table (tests pass their own) is compiled once per rule. */
const compiled = new WeakMap<Rule, CompiledTemplate>();

function compiledTemplate(rule: Rule): CompiledTemplate {
  let c = compiled.get(rule);
  if (c === undefined) {
    const template = rule.evidence.template;
    const parts: { text: string; name: string }[] = [];
    let from = 0;
    for (const m of template.matchAll(PLACEHOLDER)) {
      parts.push({ text: template.slice(from, m.index), name: m[1] ?? '' });
      from = m.index + m[0].length;
    }
    c = { parts, tail: template.slice(from) };
    compiled.set(rule, c);
  }
  return c;
}

/**
 * Fills `{factKey}` placeholders; unknown names stay visible so a broken template is noticed in
 * review and by the meta-test. Each template is split once (compiledTemplate) rather than
 * searched by a `replace` with a callback on every render: every matching rule of every reset
 * conn renders one (npm run bench -- classify-resets: 1.056 x with this).
 */
export function renderEvidence(rule: Rule, facts: Facts): Evidence {
  const { parts, tail } = compiledTemplate(rule);
  let text = '';
  for (const { text: before, name } of parts) text += before + (isFactKey(facts, name) ? formatValue(facts[name]) : `{${name}}`);
  text += tail;
  const values: Record<string, FactValue> = {};
  for (const key of rule.evidence.values) values[key] = toJsonValue(facts[key]);
  return { rule: rule.id, text, values };
}

const CONFIDENCE_PER_CORROBORATION = 0.05;
const MAX_CONFIDENCE = 0.99;
const MIN_CONFIDENCE = 0.05;

function originPhrase(f: Facts, device: DeviceAttribution | undefined): string {
  if (f.origin === 'middlebox') return `; the RST came from a middlebox${device === undefined ? '' : ` (${device.name})`}`;
  if (f.origin === 'endpoint') return '; the RST came from the endpoint itself';
  return f.headersSampled > 0 ? '; the RST packet was not sampled' : '; no packet headers were available';
}

function attributeDevice(f: Facts): DeviceAttribution | undefined {
  if (f.deviceName !== undefined) return { name: f.deviceName, kind: f.deviceKind ?? 'unknown' };
  if (f.origin === 'middlebox') return { name: `unknown hop ${f.rstHops ?? '?'} via ${f.observer === undefined || f.observer === '' ? 'sensor' : f.observer}`, kind: 'unknown' };
  return undefined;
}

function stepRank(r: Rule): number {
  return r.step === 'hint' ? 100 : r.step;
}

/**
 * rst.phase from where the first RST sits, not from the rule that decided: after a FIN it is
 * `teardown`; otherwise by the stage (post_syn: establishment, post_ack: post_handshake, post_psh
 * and later_in_flow: data_transfer); `none` when nothing but resets was seen.
 */
export function phaseOf(f: Facts, stage: RstStage | undefined): Phase {
  if (f.finBeforeRst) return 'teardown';
  switch (stage) {
    case 'post_syn':
      return 'establishment';
    case 'post_ack':
      return 'post_handshake';
    case 'post_psh':
    case 'later_in_flow':
      return 'data_transfer';
    case undefined:
      return 'none';
  }
}

/** Decision order: step first, then weight (docs/verdicts.md#decision-order). */
export function byRank(a: Rule, b: Rule): number {
  return stepRank(a) - stepRank(b) || b.weight - a.weight;
}

/** needsHeaders and samplingSafe, enforced here rather than trusted to each predicate. */
function applicable(r: Rule, f: Facts): boolean {
  if (r.needsHeaders && f.headersSampled === 0) return false;
  if (!r.samplingSafe && !f.headersComplete) return false;
  return true;
}

/** A fallback row stands only when no deciding row matched (rule.ts, RuleRole). */
function withoutOverruledFallbacks(matched: Rule[]): Rule[] {
  return matched.some((r) => r.role === 'decides') ? matched.filter((r) => r.role !== 'fallback') : matched;
}

/** Classifies facts with a rule table (the default table unless a test passes another). */
export function classifyFacts(facts: Facts, rules: readonly Rule[] = RULES, extra?: Omit<DerivedEvidence, 'facts'>): Classification {
  if (!facts.tcp || !facts.rstPresent) return { present: false, rules: [], evidence: [], tags: [], resets: [], facts };
  const stage = extra?.stage;
  const resets = extra?.resets ?? [];
  const matched = withoutOverruledFallbacks(rules.filter((r) => applicable(r, facts) && r.when(facts))).sort(byRank);
  const winner = matched.find((r) => r.role !== 'hint');
  if (winner === undefined) return { present: true, rules: [], evidence: [], tags: extra?.tags ?? [], resets, ...(stage === undefined ? {} : { stage }), facts };
  const fingerprint = extra?.fingerprint !== undefined && PROBES.has(winner.verdict) ? [extra.fingerprint] : [];
  const tags = [...(extra?.tags ?? []), ...fingerprint];
  let confidence = winner.confidence;
  for (const r of matched.slice(1)) {
    if (r.verdict === winner.verdict) confidence += CONFIDENCE_PER_CORROBORATION;
    else if (r.lowersConfidence !== undefined) confidence -= r.lowersConfidence;
  }
  confidence = Math.round(Math.min(MAX_CONFIDENCE, Math.max(MIN_CONFIDENCE, confidence)) * 100) / 100;
  const evidence = matched.map((r) => renderEvidence(r, facts));
  const device = attributeDevice(facts);
  const first = evidence[0]?.text ?? '';
  return {
    present: true,
    verdict: winner.verdict,
    phase: phaseOf(facts, stage),
    sender: facts.rstSender,
    origin: facts.origin,
    confidence,
    rules: matched.map((r) => r.id),
    evidence,
    explanation: `${VERDICT_MEANING[winner.verdict]}: ${first}${originPhrase(facts, device)}${stage === undefined ? '' : `; stage ${stage} (${tags.join(', ')})`}${resetsPhrase(resets)}.`,
    ...(device === undefined ? {} : { device }),
    ...(stage === undefined ? {} : { stage }),
    tags,
    resets,
    facts,
  };
}

/**
 * Whether the connection can have a RST for classifyFacts: a TCP conn whose history has an `R`/`r`
 * or one of whose endpoints sent a sampled RST header. The exact complement of classifyFacts'
 * `!facts.tcp || !facts.rstPresent` (facts/input.ts: parseHistory's `r` events come from `R` and
 * `r` only, the RST headers are those headerSide places), read from the records without deriving
 * any fact.
 */
function mayHaveRst(corr: Correlated): boolean {
  const conn = corr.conn;
  if (conn.proto !== 'tcp') return false;
  const history = conn.history;
  if (history !== undefined && (history.includes('R') || history.includes('r'))) return true;
  for (const h of corr.headers) if (isRst(h) && headerSide(conn, h) !== undefined) return true;
  return false;
}

/**
 * The classification of a connection without a RST, as classifyFacts gives it, with its facts
 * derived only when read: most conns (every UDP and ICMP one, most TCP ones) have no RST, no rule
 * reads their facts and their document does not show them, so deriving the ~90 facts of each was
 * a fifth of the conn path's time (npm run bench -- classify). Memoised; what it derives from
 * (the conn, its headers and weirds, the host baselines and previous close as of the emission)
 * does not change after the correlator built it, so a late read sees the eager facts.
 * A class with the getter on its prototype: an object literal with a getter costs about a
 * microsecond per conn in V8 (its accessor pair is built through the runtime), a class instance
 * tens of nanoseconds. `facts` is therefore not an own property (JSON.stringify and spreads of
 * such a classification leave it out); nothing serialises a Classification.
 */
class NoRstClassification implements Classification {
  readonly present = false;
  readonly rules: readonly string[] = [];
  readonly evidence: readonly Evidence[] = [];
  readonly tags: readonly (RstTag | ScannerFingerprint)[] = [];
  readonly resets: readonly RstJudgement[] = [];
  readonly #corr: Correlated;
  readonly #settings: ClassifySettings;
  readonly #devices: readonly Device[];
  #facts: Facts | undefined;

  constructor(corr: Correlated, settings: ClassifySettings, devices: readonly Device[]) {
    this.#corr = corr;
    this.#settings = settings;
    this.#devices = devices;
  }

  get facts(): Facts {
    this.#facts ??= deriveEvidence(this.#corr, this.#settings, this.#devices).facts;
    return this.#facts;
  }
}

/** Facts + rules for one correlated connection. */
export function classifyConnection(corr: Correlated, settings: ClassifySettings, devices: readonly Device[], rules: readonly Rule[] = RULES): Classification {
  if (!mayHaveRst(corr)) return new NoRstClassification(corr, settings, devices);
  const { facts, ...extra } = deriveEvidence(corr, settings, devices);
  return classifyFacts(facts, rules, extra);
}
