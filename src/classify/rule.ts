/**
 * The shape of one classification rule (docs/architecture.md, "Rules as data"). Rules live in rules/index.ts;
 * the engine only matches, ranks and fills evidence, so adding a rule never touches it.
 */
import type { Phase, Sender, Verdict } from '../domain';
import type { FactKey, Facts } from './facts';

/** Where a rule must fire: a corpus connection or a crafted case under test/fixtures/classify/crafted/. */
export type RuleFixture =
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
    };

export interface Rule {
  /** Stable id `RST-<FAMILY>-NNN`; never renumbered or reused. */
  readonly id: string;
  readonly verdict: Verdict;
  readonly phase: Phase;
  /** Who sends the RST this rule is about ('any' when the rule does not care). */
  readonly sender: Sender | 'any';
  /** One short predicate over the facts. */
  readonly when: (f: Facts) => boolean;
  /** Higher wins; the weights reproduce docs/verdicts.md#decision-order (first match wins). */
  readonly weight: number;
  /** Confidence 0..1 when this rule decides the verdict. */
  readonly confidence: number;
  /** Subtracted from the confidence when this rule matches but another verdict wins (hints such as RR without headers). */
  readonly lowersConfidence?: number;
  /** The rule reads packet headers: it cannot fire without them. */
  readonly needsHeaders: boolean;
  /** `{factKey}` placeholders are filled from the facts; `values` lists every fact it quotes. */
  readonly evidence: { readonly template: string; readonly values: readonly FactKey[] };
  /** Why the signal means what the rule claims. */
  readonly rationale: string;
  readonly refs: readonly string[];
  readonly fixtures: readonly RuleFixture[];
}
