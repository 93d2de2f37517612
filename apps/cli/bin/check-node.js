// Plain JavaScript on purpose: this runs on whatever Node the user has, before any TypeScript is
// loaded (kikimimi needs Node 24's type stripping, docs/adr/001). Imported first by kikimimi.js and
// run by the root package.json's `preinstall`, so `kikimimi`, `npm start` and `npm ci` all stop with
// one line saying what is needed instead of ERR_UNKNOWN_FILE_EXTENSION and a stack trace.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
const locale = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || '';

if (!(major >= REQUIRED_MAJOR)) {
  const message = locale.startsWith('ja')
    ? `kikimimi には Node.js ${REQUIRED_MAJOR} 以上が必要です（いまは ${process.version}）: ` +
      `https://nodejs.org/ から入れるか（nvm なら nvm install ${REQUIRED_MAJOR}）、Node なしで docker compose up で起動してください。`
    : `kikimimi needs Node.js ${REQUIRED_MAJOR} or newer (this is ${process.version}): ` +
      `install it from https://nodejs.org/ (with nvm: nvm install ${REQUIRED_MAJOR}), or run kikimimi without Node: docker compose up`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
