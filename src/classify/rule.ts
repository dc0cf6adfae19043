/**
 * The shape of one classification rule (docs/architecture.md, "Rules as data"). Rules live in rules/index.ts;
 * the engine only matches, ranks and fills evidence, so adding a rule never touches it.
 */
import type { Facts, Phase, Sender, Verdict } from '../domain';
import type { FactKey } from './facts';

/**
 * Where a rule must fire: a corpus connection or a crafted case under test/fixtures/classify/crafted/,
 * with the evidence text the rule must render there (`evidence`), written from the fixture's
 * traffic (history, conn_state, byte counts, the headers' TTLs, IP IDs and sequence numbers),
 * never copied from the program's output.
 */
export type RuleFixture = (
  | {
      readonly kind: 'corpus';
      /** Case folder under test/fixtures/corpus. */
      readonly case: string;
      readonly uid: string;
      /** Whether the case's header samples are fed. */
      readonly headers: boolean;
    }
  | {
      readonly kind: 'crafted';
      /** File name (without .json) under test/fixtures/classify/crafted/. */
      readonly file: string;
    }
) & {
  /** The rule's rendered evidence on this connection, as read from its traffic. */
  readonly evidence: string;
};

/** Step of docs/verdicts.md#decision-order: the first step that applies decides; hints never decide. */
export type DecisionStep = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 'hint';

/**
 * `decides`: can make the verdict on its own. `corroborates`: fires only together with a deciding
 * (or fallback) row of its verdict (rules.test.ts checks it on the fixtures) and raises confidence;
 * it may outrank that row. `hint`: adds evidence and may lower confidence, never decides.
 * `fallback`: decides only when no `decides` row matches, and is left out otherwise, so that its
 * evidence ("no rule explains this RST") never stands beside a verdict another rule explained.
 */
export type RuleRole = 'decides' | 'corroborates' | 'hint' | 'fallback';

export interface Rule {
  /** Stable id `RST-<FAMILY>-NNN`; never renumbered or reused. */
  readonly id: string;
  readonly verdict: Verdict;
  readonly step: DecisionStep;
  readonly role: RuleRole;
  /**
   * The signal holds when headers are a 1-in-N sample (control packets always sampled). A rule
   * that is not safe fires only when the flow's headers are complete (the engine enforces it).
   */
  readonly samplingSafe: boolean;
  /** What the rule means, one line (README rule table, generated: `npm run rules-table`). */
  readonly summary: string;
  /** The signals it reads, one line (README rule table). */
  readonly signals: string;
  /** Situations where the rule fires but the verdict is wrong, as Sigma rules list them. */
  readonly knownFalsePositives: readonly string[];
  /** The phase the rule is written for (documentation: rst.phase comes from where the RST sits, engine.ts phaseOf). */
  readonly phase: Phase;
  /** Who sends the RST this rule is about ('any' when the rule does not care). */
  readonly sender: Sender | 'any';
  /** One short predicate over the facts. */
  readonly when: (f: Facts) => boolean;
  /** Rank within its step (the engine ranks by step, then weight); negative for hints. */
  readonly weight: number;
  /** Confidence 0..1 when this rule decides the verdict. */
  readonly confidence: number;
  /** Subtracted from the confidence when this rule matches but another verdict wins (hints such as RR without headers). */
  readonly lowersConfidence?: number;
  /** The rule reads packet headers: the engine never fires it without them. */
  readonly needsHeaders: boolean;
  /** `{factKey}` placeholders are filled from the facts; `values` lists every fact it quotes. */
  readonly evidence: { readonly template: string; readonly values: readonly FactKey[] };
  /** Why the signal means what the rule claims. */
  readonly rationale: string;
  readonly refs: readonly string[];
  readonly fixtures: readonly RuleFixture[];
}
