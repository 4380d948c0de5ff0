import type { GeneratedPair, PairDecisionRecord } from '../../../src-shared/contract/gan-pairs';
import type { DecisionAction } from '../../../src-shared/contract/gan-gallery';
import { CovsegError } from '../errors';
import { NEAR_COPY_SSIM } from './nearest-real';

/** Defaults of `covseg gan curate --auto-reject`. */
export const AUTO_REJECT_DEFAULTS = { maxSsim: NEAR_COPY_SSIM, minDice: 0.3 } as const;
/** Who auto-rejected, as recorded in `decision.by`. */
export const AUTO_REJECT_BY = 'auto-reject';

/** The decision record an action leaves: accepted/rejected by whom and when, or pending again. */
export function decisionOf(action: DecisionAction, by: string, at: string, reason?: string): PairDecisionRecord {
  if (action === 'undo') return { state: 'pending' };
  return { state: action === 'accept' ? 'accepted' : 'rejected', by, at, ...(reason ? { reason } : {}) };
}

/** Fails, naming the file, when any id is not a pair of the folder (before anything is written). */
export function requireKnownIds(pairs: readonly GeneratedPair[], ids: readonly string[], file: string): void {
  const known = new Set(pairs.map((p) => p.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new CovsegError('not-found', `${unknown.length} id(s) are not pairs of this folder: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`, {
      file,
      fix: 'use ids from pairs.jsonl (the file stems in frames/)',
    });
  }
}

/** Sets the decision of `ids` in `pairs` (in place); returns the changed records. */
export function applyDecision(pairs: GeneratedPair[], ids: readonly string[], decision: PairDecisionRecord | ((pair: GeneratedPair) => PairDecisionRecord)): GeneratedPair[] {
  const wanted = new Set(ids);
  const changed: GeneratedPair[] = [];
  for (const pair of pairs) {
    if (!wanted.has(pair.id)) continue;
    pair.decision = typeof decision === 'function' ? decision(pair) : decision;
    changed.push(pair);
  }
  return changed;
}

export interface AutoRejectRule {
  /** Reject pairs at least this similar (SSIM) to their nearest training image. */
  maxSsim: number;
  /** Reject pairs the real-data model segments worse than this (Dice); pairs without a Dice are kept. */
  minDice: number;
}

/**
 * Pending pairs the thresholds reject, with the reason; human decisions are never overridden.
 * Pairs without quality figures are listed apart (run `covseg gan check` first).
 */
export function autoRejectPlan(pairs: readonly GeneratedPair[], rule: AutoRejectRule): { reject: { id: string; reason: string }[]; unchecked: string[] } {
  const reject: { id: string; reason: string }[] = [];
  const unchecked: string[] = [];
  for (const pair of pairs) {
    if (pair.decision.state !== 'pending') continue;
    const q = pair.quality;
    if (!q) {
      unchecked.push(pair.id);
      continue;
    }
    const reasons: string[] = [];
    if (q.ssimToNearest >= rule.maxSsim) reasons.push(`near-copy of training slice ${q.nearestTrainId} (SSIM ${q.ssimToNearest.toFixed(3)} >= ${rule.maxSsim})`);
    if (q.segmentabilityDice !== null && q.segmentabilityDice < rule.minDice) reasons.push(`real-data model Dice ${q.segmentabilityDice.toFixed(3)} < ${rule.minDice}`);
    if (reasons.length > 0) reject.push({ id: pair.id, reason: reasons.join('; ') });
  }
  return { reject, unchecked };
}
