/**
 * Prints generated posts as JSON lines, for eyeballing:
 *   node packages/sandbox/src/generator/print-sample.ts [count=20] [seed=1]
 */
import { createPostGenerator, demoBrand } from './index.ts';

const count = Number(process.argv[2] ?? 20);
const seed = Number(process.argv[3] ?? 1);
if (!Number.isInteger(count) || count < 0 || !Number.isFinite(seed)) {
  process.stderr.write('usage: node print-sample.ts [count] [seed]\n');
  process.exit(2);
}

// `| head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const generator = createPostGenerator({ seed, brands: [demoBrand] });
for (const post of generator.take(count)) {
  process.stdout.write(
    `${JSON.stringify({
      kind: post.kind,
      lang: post.lang,
      ref: post.ref,
      ...(post.repostOfRef === undefined ? {} : { repostOf: post.repostOfRef }),
      author: `@${post.author.handle}`,
      name: post.author.name,
      followers: post.author.followers,
      text: post.text,
      traits: post.traits,
    })}\n`,
  );
}
