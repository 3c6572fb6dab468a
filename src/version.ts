// package.json sits one level above both src/ and dist/.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../package.json') as { name: string; version: string };

export const APP_VERSION = pkg.version;
export const USER_AGENT = `${pkg.name}/${pkg.version} (node ${process.versions.node})`;
