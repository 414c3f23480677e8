import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  FIXTURE_WORKFLOWS,
  REPO_ROOT,
  SCREENSHOT_DIR,
  launchBrowser,
  loadFixtureWorkflow,
  saveScreenshots,
  scrollsHorizontally,
  unnamedControls,
  waitFor,
  type TestBrowser,
  type WatchedPage,
} from '@cb/testing';
import { startE2eStack, type E2eStack } from './stack';

/**
 * Issue 16, acceptance: the console in Debian's chromium (playwright-core), against the stack as
 * processes, through the gateway's /console. It is built first if its build is missing or stale
 * (tools/console/build-if-stale.mjs). Screenshots of every page land in test-output/console/.
 *
 * Written against the selectors of the console contract: workflow links holding id and name;
 * the graph `svg[role=img][aria-label="graph of <wf>"]` with `g[data-place]`,
 * `text[data-count]`, `g[data-transition]`; "Fire <transition>" buttons on the token page and
 * "version <n>" after a fire; errors in role="alert" with their code.
 */

const FIXTURES = FIXTURE_WORKFLOWS.map((name) => loadFixtureWorkflow(name));
const ORDERS = loadFixtureWorkflow('order-processing');
const WF = ORDERS.id;
const UI_TIMEOUT_MS = 15_000;
/** Interactive controls a read-only console must not show (any word of a write). */
const WRITE_CONTROL =
  /^(fire\b|bulk|delete|patch|apply patch|save|create|new workflow|new version|upload|confirm)/i;

let stack: E2eStack;
let browser: TestBrowser;
let readKey: string;
/** Tokens made in beforeAll: which place each starts in is what the counts assert. */
const tokens: Record<string, string> = {};
/** Where every screenshot went (the report names them). */
const screenshots: string[] = [];
/** Pages the quality checks (names, layout at 390 wide) ran on. */
const checked: string[] = [];

jest.setTimeout(120_000);

/** The stack's root credential (CB_ADMIN_KEY), as typed into the sign-in form. */
const rootKey = (): string => stack.authorization.replace(/^Bearer /, '');

function buildConsole(): void {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'tools/console/build-if-stale.mjs')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (run.status !== 0 || !existsSync(join(REPO_ROOT, 'apps/console/dist/index.html'))) {
    throw new Error(`the console could not be built:\n${run.stdout}\n${run.stderr}`);
  }
}

beforeAll(async () => {
  buildConsole();
  // A browser and the whole stack share the machine: guards get a budget no load exceeds (the
  // budget is guards.e2e's subject, not this file's), so none is refused as too expensive.
  stack = await startE2eStack(
    { GUARD_TIMEOUT_MS: '2000' },
    { projectionWorkers: 1, workflows: [...FIXTURE_WORKFLOWS] },
  );
  // Orders: two in cart, two in payment_pending (one for the page's guard failure, one to learn
  // what the API answers for it), one delivered; an article draft.
  for (const name of ['cart-1', 'cart-2']) {
    tokens[name] = (await stack.createToken(WF, { id: `o-${name}`, data: { items: 2 } })).id;
  }
  for (const name of ['pending-1', 'pending-2']) {
    const t = await stack.createToken(WF, { id: `o-${name}`, data: { payment_method: 'card' } });
    await fire(t.id, 'checkout');
    tokens[name] = t.id;
  }
  await countsReaching({ cart: 2, payment_pending: 2 });
  const created = await stack.call<{ key: string }>('POST', '/v1/admin/keys', {
    tenant: 'default',
    name: 'console-reader',
    scopes: ['read'],
  });
  expect(created.status).toBe(201);
  readKey = created.body.key;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (screenshots.length > 0) {
    process.stdout.write(
      `console screenshots in ${SCREENSHOT_DIR}:\n  ${screenshots.join('\n  ')}\n`,
    );
  }
});

async function fire(tokenId: string, transition: string, data?: Record<string, unknown>) {
  const res = await stack.call('POST', `/v1/workflows/${WF}/tokens/${tokenId}/fire`, {
    transition,
    ...(data ? { data } : {}),
  });
  expect({ transition, status: res.status }).toEqual({ transition, status: 200 });
  return res;
}

/** Live tokens per place of the workflow, as the API's stats tell them. */
async function countsOf(workflowId: string): Promise<Record<string, number>> {
  const res = await stack.call<{ places: Record<string, number> }>(
    'GET',
    `/v1/workflows/${workflowId}/stats`,
  );
  expect(res.status).toBe(200);
  return res.body.places;
}

/** The stats once the projections show `expected` (they follow the writes shortly). */
function countsReaching(expected: Record<string, number>): Promise<Record<string, number>> {
  return waitFor(
    async () => {
      const counts = await countsOf(WF);
      return Object.entries(expected).every(([p, n]) => counts[p] === n) && counts;
    },
    {
      timeoutMs: UI_TIMEOUT_MS,
      description: `the stats of ${WF} to show ${JSON.stringify(expected)}`,
    },
  );
}

async function open(page: Page, path: string): Promise<Page> {
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(`${stack.baseUrl}/console${path}`);
  return page;
}

/** Signs in on the sign-in page with `key` and waits to leave it. */
async function signIn(key: string): Promise<WatchedPage> {
  const watched = await browser.newPage();
  const page = await open(watched.page, '/sign-in');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.endsWith('/sign-in'));
  return watched;
}

/**
 * The checks every page gets: each control has an accessible name; no sideways scrolling at
 * 390×844; screenshots at both sizes; nothing secret in localStorage or the URL.
 */
async function checkPage(page: Page, name: string): Promise<void> {
  expect({ page: name, unnamed: await unnamedControls(page) }).toEqual({ page: name, unnamed: [] });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve()))');
  expect({ page: name, scrollsSideways: await scrollsHorizontally(page) }).toEqual({
    page: name,
    scrollsSideways: false,
  });
  expect({ page: name, unnamed: await unnamedControls(page) }).toEqual({ page: name, unnamed: [] });
  await page.setViewportSize({ width: 1280, height: 800 });
  expect(await page.evaluate('localStorage.length')).toBe(0);
  expect(page.url()).not.toMatch(/cbs_|cb_[0-9A-Za-z]{16}_|key=/);
  screenshots.push(...(await saveScreenshots(page, name)));
  checked.push(name);
}

const graphOf = (page: Page, wf: string) =>
  page.locator(`svg[role="img"][aria-label="graph of ${wf}"]`);
const countText = (page: Page, place: string) =>
  page.locator(`[data-count="${place}"]`).first().textContent();

async function waitForCount(page: Page, place: string, count: number): Promise<void> {
  await waitFor(async () => (await countText(page, place))?.trim() === String(count), {
    timeoutMs: UI_TIMEOUT_MS,
    description: `the graph's count of ${place} to be ${count} (it is ${await countText(page, place).catch(() => '?')})`,
  });
}

describe('the console (issue 16) in a browser', () => {
  it('is served by the gateway with its Content-Security-Policy', async () => {
    const res = await fetch(`${stack.baseUrl}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('/console/assets/');
  });

  it('signs in with the root key and lists the fixture workflows with id and name', async () => {
    const { page } = await signIn(rootKey());
    await open(page, '/');
    for (const wf of FIXTURES) {
      const link = page.locator('a').filter({ hasText: wf.id }).filter({ hasText: wf.name });
      await link.first().waitFor();
    }
    // The session is in sessionStorage, the key nowhere.
    const stored = JSON.parse(String(await page.evaluate('sessionStorage.getItem("cb.session")')));
    expect(stored.session).toMatch(/^cbs_/);
    expect(JSON.stringify(stored)).not.toContain(rootKey());
    await checkPage(page, 'workflows');
  });

  it("shows a workflow's graph: every place with its live count, transitions, marks", async () => {
    const { page } = await signIn(rootKey());
    await open(page, `/workflows/${WF}`);
    await graphOf(page, WF).waitFor();
    const counts = await countsOf(WF);
    for (const id of ORDERS.places) {
      const node = page.locator(`g[data-place="${id}"]`);
      await node.waitFor();
      expect(await node.locator('text').allTextContents()).toContain(id);
      await waitForCount(page, id, counts[id] ?? 0);
    }
    for (const t of ORDERS.transitions) {
      const edge = page.locator(`g[data-transition="${t.id}"]`);
      await edge.first().waitFor({ state: 'attached' });
      expect((await edge.first().locator('text').allTextContents()).join(' ')).toContain(t.id);
      if (t.guard) expect(await edge.first().getAttribute('data-guarded')).toBe('true');
    }
    for (const place of ORDERS.finalPlaces ?? []) {
      expect(await page.locator(`g[data-place="${place}"]`).getAttribute('data-final')).toBe(
        'true',
      );
    }
    await checkPage(page, 'workflow-graph');
  });

  it('fires a transition from the token page; the graph in another page follows without reload', async () => {
    const graph = await signIn(rootKey());
    await open(graph.page, `/workflows/${WF}`);
    await graphOf(graph.page, WF).waitFor();
    const before = await countsOf(WF);
    await waitForCount(graph.page, 'cart', before['cart']!);
    await waitForCount(graph.page, 'payment_pending', before['payment_pending']!);
    let navigations = 0;
    graph.page.on('framenavigated', (frame) => {
      if (frame === graph.page.mainFrame()) navigations++;
    });
    await graph.page.evaluate('window.__cbSamePage = true');

    const tokenPage = await signIn(rootKey());
    const page = await open(tokenPage.page, `/workflows/${WF}/tokens/${tokens['cart-1']}`);
    const fireButton = page.getByRole('button', { name: 'Fire checkout' });
    await fireButton.waitFor();
    await fireButton.click();
    await page
      .getByText(/version \d+/)
      .first()
      .waitFor();
    const token = await stack.call<{ place: string; version: number }>(
      'GET',
      `/v1/workflows/${WF}/tokens/${tokens['cart-1']}`,
    );
    expect(token.body.place).toBe('payment_pending');
    await page.getByText(`version ${token.body.version}`).first().waitFor();

    await waitForCount(graph.page, 'cart', before['cart']! - 1);
    await waitForCount(graph.page, 'payment_pending', before['payment_pending']! + 1);
    expect(await graph.page.evaluate('window.__cbSamePage === true')).toBe(true);
    expect(navigations).toBe(0);
    await checkPage(page, 'token');
  });

  it('shows a guard failure with its code and failing path', async () => {
    // What the API answers for the same fire on a twin token: the path the page must show.
    const twin = await stack.call<{ code: string; failures: { path: string }[] }>(
      'POST',
      `/v1/workflows/${WF}/tokens/${tokens['pending-2']}/fire`,
      { transition: 'pay', data: { payment_method: null } },
    );
    expect(twin.status).toBe(422);
    expect(twin.body.code).toBe('GUARD_FAILED');
    const path = twin.body.failures[0]!.path;

    const { page } = await signIn(rootKey());
    await open(page, `/workflows/${WF}/tokens/${tokens['pending-1']}`);
    const fireButton = page.getByRole('button', { name: 'Fire pay' });
    await fireButton.waitFor();
    await page.getByLabel(/patch for the fire|fire.*patch/i).fill('{"payment_method": null}');
    await fireButton.click();
    const alert = page.getByRole('alert').filter({ hasText: 'GUARD_FAILED' });
    await alert.first().waitFor();
    expect(await alert.first().textContent()).toContain(path);
    await checkPage(page, 'token-guard-failure');
  });

  it('shows the pages of a place, a new workflow and a new version', async () => {
    const { page } = await signIn(rootKey());
    await open(page, `/workflows/${WF}/places/cart`);
    await page.locator(`a[href*="/tokens/${tokens['cart-2']}"]`).first().waitFor();
    await checkPage(page, 'place');
    await open(page, '/definitions/new');
    await page.getByRole('heading').first().waitFor();
    await page.locator('textarea').first().waitFor();
    await checkPage(page, 'definition-new');
    await open(page, `/workflows/${WF}/new-version`);
    await page.locator('textarea').first().waitFor();
    await waitFor(async () => (await page.locator('textarea').first().inputValue()).includes(WF), {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'the editor to hold the current definition',
    });
    await checkPage(page, 'definition-new-version');
  });

  it('gives a read-only key a console without write controls', async () => {
    const { page } = await signIn(readKey);
    const writeControls = async (): Promise<string[]> => {
      const names: string[] = [];
      for (const role of ['button', 'link'] as const) {
        for (const el of await page.getByRole(role).all()) {
          const name = ((await el.getAttribute('aria-label')) ?? (await el.textContent()) ?? '')
            .trim()
            .replace(/\s+/g, ' ');
          if (WRITE_CONTROL.test(name)) names.push(`${role} "${name}"`);
        }
      }
      return names;
    };
    await open(page, '/');
    await page.locator('a').filter({ hasText: WF }).first().waitFor();
    expect({ page: 'workflows', write: await writeControls() }).toEqual({
      page: 'workflows',
      write: [],
    });
    await checkPage(page, 'read-only-workflows');

    await open(page, `/workflows/${WF}`);
    await graphOf(page, WF).waitFor();
    await page.locator('[data-count="cart"]').first().waitFor();
    expect({ page: 'workflow', write: await writeControls() }).toEqual({
      page: 'workflow',
      write: [],
    });

    await open(page, `/workflows/${WF}/places/cart`);
    await page.locator(`a[href*="/tokens/${tokens['cart-2']}"]`).first().waitFor();
    expect({ page: 'place', write: await writeControls() }).toEqual({ page: 'place', write: [] });

    await open(page, `/workflows/${WF}/tokens/${tokens['cart-2']}`);
    await page.locator('[data-version]').first().waitFor();
    // The transitions are listed (read), but nothing to fire them with.
    await page.getByText('checkout').first().waitFor();
    expect(await page.getByRole('button', { name: /^Fire / }).count()).toBe(0);
    expect({ page: 'token', write: await writeControls() }).toEqual({ page: 'token', write: [] });
    await checkPage(page, 'read-only-token');
  });

  it('signs out: the session ends on the server and in the tab', async () => {
    const { page } = await signIn(rootKey());
    const stored = JSON.parse(String(await page.evaluate('sessionStorage.getItem("cb.session")')));
    const session = stored.session as string;
    const current = await stack.call('GET', '/v1/sessions/current', undefined, {
      authorization: `Bearer ${session}`,
    });
    expect(current.status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname.endsWith('/sign-in'));
    expect(await page.evaluate('sessionStorage.getItem("cb.session")')).toBeNull();
    const after = await stack.call('GET', '/v1/sessions/current', undefined, {
      authorization: `Bearer ${session}`,
    });
    expect(after.status).toBe(401);
    await checkPage(page, 'sign-in');
  });

  it('logged no console errors and no uncaught exceptions on any page', () => {
    expect(checked.length).toBeGreaterThan(0);
    expect(browser.errors()).toEqual([]);
  });
});
