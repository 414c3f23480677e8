import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(__dirname, '..', '..');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The targets of a page's Markdown links and images, code spans and blocks left out. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (m) => m[1]!,
  );
}

/** A relative link: no scheme (`https:`, `mailto:`) and not only an anchor on the same page. */
const isRelative = (target: string): boolean =>
  !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#');

describe('relative links in README.md and docs/*.md', () => {
  it('finds the pages and their links', () => {
    expect(pages).toEqual(
      expect.arrayContaining(['README.md', 'docs/design.md', 'docs/errors.md']),
    );
    expect(linkTargets('see [a](docs/a.md#x), `[b](c)` and ![d](e.png "t")')).toEqual([
      'docs/a.md#x',
      'e.png',
    ]);
  });

  it.each(pages)('%s links only to files inside the repository that exist', (page) => {
    const from = dirname(join(root, page));
    const broken = linkTargets(readFileSync(join(root, page), 'utf8'))
      .filter(isRelative)
      .filter((target) => {
        const path = resolve(from, decodeURIComponent(target.split('#')[0]!));
        return relative(root, path).startsWith('..') || !existsSync(path);
      });
    expect(broken).toEqual([]);
  });
});
