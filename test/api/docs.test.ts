import fs from 'node:fs';
import path from 'node:path';

// The docs ship with the repository: every link and every path they name must be found inside it,
// by a reader who has nothing else.
const root = path.resolve(__dirname, '../..');
const pages = [
  'README.md',
  ...fs.readdirSync(path.join(root, 'docs')).map((f) => path.join('docs', f)),
].filter((f) => f.endsWith('.md'));

test.each(pages)('when %s links to a file, then the file is in the repository', (page) => {
  const text = fs.readFileSync(path.join(root, page), 'utf8');
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^(https?:|mailto:|#)/.test(target)) continue;
    const resolved = path.resolve(path.dirname(path.join(root, page)), target.split('#')[0]);
    expect({ page, target, inside: resolved.startsWith(`${root}${path.sep}`) }).toEqual({
      page,
      target,
      inside: true,
    });
    expect({ page, target, exists: fs.existsSync(resolved) }).toEqual({ page, target, exists: true });
  }
});

test.each(pages)(
  'when %s names an absolute file path, then it is not one of a particular machine',
  (page) => {
    const text = fs.readFileSync(path.join(root, page), 'utf8');
    expect(text.match(/`\/(work|home|tmp|Users|mnt)\/[^`]*`/g) ?? []).toEqual([]);
  },
);
