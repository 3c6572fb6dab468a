import fs from 'node:fs';
import path from 'node:path';
import { SANDBOX_DEFAULTS } from '../../dev/sandbox/defaults';

/**
 * What must never be printed or answered, anywhere in the suite: the client secret and refresh
 * token the sandbox accepts, tokens it issues (recognised by shape, see SECRET_PATTERNS), and
 * the storage account key. Findings name the file and the kind, never the value.
 */
const SECRET_VALUES: Record<string, string> = {
  'client secret': SANDBOX_DEFAULTS.clientSecret,
  'refresh token': SANDBOX_DEFAULTS.refreshToken,
  'storage account key':
    'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

export const SECRET_PATTERNS: Record<string, RegExp> = {
  'bearer header': /Bearer\s+(?!\[redacted\])[A-Za-z0-9\-._~+/]{16,}/,
  // Every token the sandbox issues has this shape (dev/sandbox/tokens.ts).
  'sandbox access token': /sandbox\.at\.[A-Za-z0-9_-]{16,}/,
  'sandbox refresh token': /sandbox\.rt\.[A-Za-z0-9_-]{16,}/,
};

export interface Finding {
  file: string;
  kind: string;
  line: number;
}

export function scanText(text: string, file = '(text)'): Finding[] {
  const findings: Finding[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const [kind, value] of Object.entries(SECRET_VALUES)) {
      if (line.includes(value)) findings.push({ file, kind, line: i + 1 });
    }
    for (const [kind, pattern] of Object.entries(SECRET_PATTERNS)) {
      if (pattern.test(line)) findings.push({ file, kind, line: i + 1 });
    }
  });
  return findings;
}

export function scanDirectory(dir: string): { files: number; bytes: number; findings: Finding[] } {
  let bytes = 0;
  const findings: Finding[] = [];
  const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  for (const name of files) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    bytes += text.length;
    findings.push(...scanText(text, name));
  }
  return { files: files.length, bytes, findings };
}
