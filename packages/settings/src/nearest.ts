import { closest, distance } from 'fastest-levenshtein';

/** The candidate closest to `word`, when close enough to be a plausible typo ("did you mean"). */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word, [...candidates]);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
