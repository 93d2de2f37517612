// Prints, as PEM, the CA certificates this machine trusts and Node's built-in store does not: what a
// bare container's npm lacks behind a TLS-inspecting proxy (SELF_SIGNED_CERT_IN_CHAIN). Reads the
// bundle given (default: Debian's). Used for KIKIMIMI_BUILD_CA_CERTS:
//   KIKIMIMI_BUILD_CA_CERTS="$(node scripts/compose/extra-ca-certs.ts)" docker compose build
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

const file = process.argv[2] ?? '/etc/ssl/certs/ca-certificates.crt';
const squash = (pem: string) => pem.replace(/\s+/gu, '');
const builtIn = new Set(rootCertificates.map(squash));
let text: string;
try {
  text = readFileSync(file, 'utf8');
} catch (error) {
  process.stderr.write(`extra-ca-certs: cannot read ${file}: ${(error as NodeJS.ErrnoException).code}\n`);
  process.exit(1);
}
const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/gu) ?? [];
const extra = [...new Set(pems.filter((pem) => !builtIn.has(squash(pem))))];
if (extra.length > 0) process.stdout.write(`${extra.join('\n')}\n`);
