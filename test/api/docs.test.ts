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

// README promises docs/architecture.md is a ten-minute tour. At about 230 words a minute that is
// some 2,300 words, tables and code included; the margin to 2,500 is for a fix, not a new section
// (depth goes to docs/internals.md).
test('when docs/architecture.md is counted, then it is a ten-minute read (at most 2,500 words)', () => {
  const text = fs.readFileSync(path.join(root, 'docs', 'architecture.md'), 'utf8');
  const words = text.split(/\s+/).filter((token) => token !== '').length;
  expect({ words, atMost2500: words <= 2500 }).toEqual({ words, atMost2500: true });
});

// Code and docs name a section as `docs/<file>.md, "<Section>"` (wrapped lines allowed); the section
// must stay a heading of that file, or the reference points nowhere after a rewrite.
function filesUnder(dir: string, ext: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? filesUnder(path.join(dir, entry.name), ext)
        : entry.name.endsWith(ext)
          ? [path.join(dir, entry.name)]
          : [],
    );
}

const sectionReferences = [
  ...filesUnder(path.join(root, 'src'), '.ts'),
  ...filesUnder(path.join(root, 'dev'), '.ts'),
  ...pages.map((page) => path.join(root, page)),
].flatMap((file) =>
  [...fs.readFileSync(file, 'utf8').matchAll(/docs\/([\w-]+)\.md,\s*(?:(?:\*|\/\/)\s*)?"([^"]+)"/g)].map(
    ([, name, section]) => ({
      from: path.relative(root, file),
      doc: path.join('docs', `${name}.md`),
      // A section wrapped over comment lines: one space where the line broke.
      section: section.replace(/\s*\n\s*(?:(?:\*|\/\/)\s*)?/g, ' '),
    }),
  ),
);

test('when code names docs sections, then the references are found', () => {
  expect(sectionReferences.filter((ref) => ref.from.startsWith(`src${path.sep}`)).length).toBeGreaterThan(0);
});

test.each(sectionReferences)('when $from names $doc, "$section", then that heading exists', (ref) => {
  const file = path.join(root, ref.doc);
  const headings = fs.existsSync(file)
    ? [...fs.readFileSync(file, 'utf8').matchAll(/^#+\s+(.+)$/gm)].map(([, heading]) => heading.trim())
    : [];
  expect({ ...ref, found: headings.some((heading) => heading.startsWith(ref.section)) }).toEqual({
    ...ref,
    found: true,
  });
});
