import { type OptionsType, ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

/*
 * New passwords must be hard to guess, not only long: zxcvbn-ts estimates how many guesses a
 * password takes, with the shipped lists of common (breached) passwords, English words and names,
 * keyboard patterns, repeats, sequences and dates (docs/adr/007-password-strength.md). The user's own
 * name counts as a known word. Checked locally: no password leaves the machine.
 */

/** zxcvbn's score (0–4) a new password needs: 3 = "safely unguessable" (about 10^8 guesses or more). */
export const MIN_PASSWORD_SCORE = 3;
/** Longer inputs are cut before estimating (zxcvbn's cost grows with length; such are strong anyway). */
const MAX_CHECKED_LENGTH = 256;

let factory: ZxcvbnFactory | undefined;
/** Built on first use: the dictionaries take some milliseconds to load. */
function estimator(): ZxcvbnFactory {
  if (factory === undefined) {
    const options: OptionsType = {
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...english.dictionary },
    };
    factory = new ZxcvbnFactory(options);
  }
  return factory;
}

/** True when `password` is too easy to guess (given the words in `userInputs`, e.g. the username). */
export function isWeakPassword(password: string, userInputs: readonly string[] = []): boolean {
  const inputs = userInputs
    .flatMap((input) => [input, ...input.split(/[^\p{L}\p{N}]+/u)])
    .filter((i) => i.length >= 3);
  return estimator().check(password.slice(0, MAX_CHECKED_LENGTH), inputs).score < MIN_PASSWORD_SCORE;
}
