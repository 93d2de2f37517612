/**
 * Trains the intent model on every labelled set in corpus/ and writes src/classify/intent-model.json.
 *
 *   node scripts/train-intent-model.ts [--check]
 *
 * Deterministic: the same corpus and code write the same file. --check writes nothing and fails when
 * the committed file differs from what training gives now (run it after changing the corpus, the
 * dictionaries or the features, then train and commit the new file).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labelledPosts, preparePosts, SETTINGS, trainIntentModel } from '../corpus/intent-training.ts';

const OUTPUT = fileURLToPath(new URL('../src/classify/intent-model.json', import.meta.url));

const started = performance.now();
const posts = labelledPosts();
const model = trainIntentModel(preparePosts(posts, SETTINGS), SETTINGS);
const text = `${JSON.stringify(model)}\n`;
const seconds = ((performance.now() - started) / 1000).toFixed(1);

if (process.argv.includes('--check')) {
  const current = readFileSync(OUTPUT, 'utf8');
  if (current !== text) {
    console.error(`${OUTPUT} is not what training gives now: run npm run train:intent and commit the file`);
    process.exit(1);
  }
  console.log(`intent model up to date (${posts.length} posts, ${seconds} s)`);
} else {
  writeFileSync(OUTPUT, text);
  console.log(
    `intent model: ${posts.length} posts from ${model.trainedOn.sets.length} sets, 2^${model.bits} buckets, ` +
      `n-grams 1–${model.maxN}; ${(text.length / 1024).toFixed(0)} KiB written to ${OUTPUT} in ${seconds} s`,
  );
}
