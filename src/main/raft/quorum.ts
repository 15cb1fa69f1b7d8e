// Majority arithmetic over the voters (learners never count).

export const enum VoteResult {
  Pending = 0,
  Won = 1,
  Lost = 2,
}

/**
 * The largest value that a majority of `values[0..count)` have reached (e.g. the commit
 * index from match indexes). Sorts that prefix in place; `count` is small, so an
 * insertion sort without a comparator closure is the cheap choice.
 */
export function majorityValue(values: number[], count: number): number {
  if (count === 0) return 0;
  for (let i = 1; i < count; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && values[j]! < v) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = v;
  }
  // Sorted descending: the (floor(n/2)+1)-th largest is reached by a majority.
  return values[count >> 1]!;
}

export function tallyVotes(granted: number, rejected: number, voters: number): VoteResult {
  const quorum = (voters >> 1) + 1;
  if (granted >= quorum) return VoteResult.Won;
  if (voters - rejected < quorum) return VoteResult.Lost;
  return VoteResult.Pending;
}
