import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from './services/repo-root';

/**
 * Browser tests (the console, issue 16): playwright-core driving Debian's chromium, which
 * `.ci/run` installs when it is missing; no browser is downloaded.
 */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Headless, no sandbox (containers), and nothing phoning home or updating during a test. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The two layouts the console must work at. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

/** Where screenshots go: test-output/console/ of the repository (gitignored). */
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'console');

/**
 * What went wrong in one page: console errors and uncaught exceptions (`errors`: a test asserts
 * there are none), and the API's error answers, which Chromium logs as "Failed to load
 * resource" console errors though the app handled them (`httpErrors`: a guard failure the test
 * provoked is one).
 */
export interface PageProblems {
  errors: string[];
  httpErrors: string[];
}

/** A page opened by `TestBrowser.newPage`, with what it reported. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  problems: PageProblems;
}

const HTTP_ERROR = /^Failed to load resource: the server responded with a status of [45]\d\d/;

/** One chromium for a test file; each page in a context of its own (its own sessionStorage). */
export class TestBrowser {
  private readonly pages: WatchedPage[] = [];

  private constructor(readonly browser: Browser) {}

  static async launch(): Promise<TestBrowser> {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
    return new TestBrowser(browser);
  }

  /** A new page (in a new context unless `context` is given), its problems collected. */
  async newPage(
    options: { viewport?: ViewportName; context?: BrowserContext } = {},
  ): Promise<WatchedPage> {
    const context =
      options.context ??
      (await this.browser.newContext({ viewport: VIEWPORTS[options.viewport ?? 'desktop'] }));
    const page = await context.newPage();
    const problems: PageProblems = { errors: [], httpErrors: [] };
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      const where = message.location().url;
      if (HTTP_ERROR.test(text)) problems.httpErrors.push(`${text} (${where})`);
      else problems.errors.push(`console.error: ${text}${where ? ` (${where})` : ''}`);
    });
    page.on('pageerror', (error) => problems.errors.push(`uncaught: ${error.stack ?? error}`));
    page.on('crash', () => problems.errors.push('the page crashed'));
    const watched = { page, context, problems };
    this.pages.push(watched);
    return watched;
  }

  /** Every console error and uncaught exception of every page so far. */
  errors(): string[] {
    return this.pages.flatMap((p) => p.problems.errors);
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Launches chromium (see TestBrowser). */
export function launchBrowser(): Promise<TestBrowser> {
  return TestBrowser.launch();
}

/**
 * Screenshots of the page as it is, full page, at 1280×800 and 390×844, as
 * `<dir>/<name>-<width>x<height>.png`; the viewport is set back afterwards. Returns the files.
 */
export async function saveScreenshots(
  page: Page,
  name: string,
  dir: string = SCREENSHOT_DIR,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const before = page.viewportSize();
  const files: string[] = [];
  for (const size of Object.values(VIEWPORTS)) {
    await page.setViewportSize(size);
    // Let layout (and the graph's resize) settle.
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve()))');
    const file = join(dir, `${name}-${size.width}x${size.height}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  if (before) await page.setViewportSize(before);
  return files;
}

/**
 * Interactive elements without an accessible name, described (tag, id, classes, a snippet), for
 * `expect(...).toEqual([])`. The name is computed as browsers do for the common cases:
 * aria-labelledby, aria-label, a <label>, the text content (img alt included), a button
 * input's value, title. Hidden elements do not count.
 */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(UNNAMED_CONTROLS);
}

/**
 * Run in the page (as text: the repository's TypeScript has no DOM types). Playwright evaluates
 * it through the DevTools protocol, which the page's Content-Security-Policy does not govern.
 */
const UNNAMED_CONTROLS = `(() => {
  const selector = 'a[href], button, input, select, textarea, summary, [role="button"], [role="link"], [role="checkbox"], [role="tab"], [role="menuitem"], [tabindex]:not([tabindex="-1"])';
  const textOf = (el) => {
    let text = '';
    for (const node of Array.from(el.childNodes)) {
      if (node.nodeType === Node.TEXT_NODE) text += node.textContent || '';
      else if (node instanceof Element) {
        if (node.getAttribute('aria-hidden') === 'true') continue;
        text += node.getAttribute('aria-label') || node.getAttribute('alt') || textOf(node);
      }
    }
    return text.trim();
  };
  const nameOf = (el) => {
    const labelledBy = el.getAttribute('aria-labelledby');
    if (labelledBy) {
      const text = labelledBy.split(/\\s+/)
        .map((id) => (document.getElementById(id) || {}).textContent || '')
        .join(' ').trim();
      if (text) return text;
    }
    const aria = (el.getAttribute('aria-label') || '').trim();
    if (aria) return aria;
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) {
      const labels = Array.from(el.labels || []).map((l) => (l.textContent || '').trim()).join(' ').trim();
      if (labels) return labels;
      if (el instanceof HTMLInputElement && ['submit', 'button', 'reset'].includes(el.type) && el.value.trim()) {
        return el.value.trim();
      }
      return (el.title || '').trim();
    }
    return textOf(el) || (el.title || '').trim();
  };
  const visible = (el) => {
    if (el instanceof HTMLInputElement && el.type === 'hidden') return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    return el.getClientRects().length > 0;
  };
  return Array.from(document.querySelectorAll(selector))
    .filter((el) => visible(el) && nameOf(el) === '')
    .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ': ' + el.outerHTML.slice(0, 160));
})()`;

/** Whether the page scrolls sideways (the console must not, at 390 wide). */
export function scrollsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  );
}
