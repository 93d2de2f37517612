import { runService } from '@kikimimi/runtime';
import { loadWorkerEnv, startWorker } from '@kikimimi/worker';
import { type Command, printedHelp } from './io.ts';
import { webOptionsFrom } from './web.ts';
import { workerOptionsFrom } from './worker.ts';

const USAGE = `Usage: kikimimi start

Runs the web console and the worker in one process: the whole of kikimimi for a small installation
(and what \`npm start\` runs). With no platform account connected it starts the demo world: stand-in X
and Mastodon fed with generated posts, and an example configuration, so the inbox fills within a
minute. Takes the environment of both \`kikimimi web\` and \`kikimimi worker\` (see .env.example).
Applies pending database migrations at start. Stops gracefully on SIGTERM or SIGINT.`;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the web console and the worker in one process (demo world when nothing is connected)',
  usage: USAGE,
  async run(args, io) {
    if (printedHelp(args, USAGE, io)) return 0;
    const { loadWebEnv, startWeb } = await import('@kikimimi/web');
    return runService({
      command: 'start',
      envs: [loadWorkerEnv(process.env), loadWebEnv(process.env)],
      loggerName: 'kikimimi',
      stderr: io.stderr,
      async start([workerEnv, webEnv], context) {
        const worker = await startWorker({ ...(await workerOptionsFrom(workerEnv)), ...context });
        try {
          const web = await startWeb({ ...webOptionsFrom(webEnv), ...context, migrate: false });
          io.stdout.write(`kikimimi is running: open ${web.url} in a browser\n`);
          return {
            async close() {
              await web.close();
              await worker.close();
            },
          };
        } catch (error) {
          await worker.close().catch(() => {});
          throw error;
        }
      },
    });
  },
};
