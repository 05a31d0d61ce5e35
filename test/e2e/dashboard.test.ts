import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium, CHROMIUM_ARGS } from '../../platform/setup/chromium.ts';
import { paas, startPlatform, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, fixtureRepo, push, routerGet, ROOT } from '../helpers/git-app.ts';

// The README's screenshots are refreshed only when asked (PAAS_SCREENSHOTS=1); otherwise they go to a temp dir.
const SCREENSHOTS = process.env.PAAS_SCREENSHOTS === '1' ? path.join(ROOT, 'docs/screenshots') : fs.mkdtempSync(path.join(os.tmpdir(), 'paas-screenshots-'));
const LONG = 180_000;

/** Signs in with fetch, as a script (or another site) could, and returns the cookie and CSRF token. */
async function signIn(platform: RunningPlatform): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${platform.apiUrl}/login`, { method: 'POST', body: new URLSearchParams({ token: platform.token }), redirect: 'manual' });
  expect(res.status).toBe(303);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c.endsWith('='))[0];
  const html = await (await fetch(`${platform.apiUrl}/`, { headers: { cookie } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(html)![1];
  return { cookie, csrf };
}

describe('web dashboard', () => {
  let platform: RunningPlatform;
  let browser: Browser;
  let page: Page;
  const APP = 'dash-app';

  beforeAll(async () => {
    const [executablePath, started] = await Promise.all([ensureChromium(), startPlatform()]);
    platform = started;
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    page.setDefaultTimeout(60_000);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (platform) {
      for (const app of [APP, 'csrf-probe']) {
        await paas(platform, ['apps:destroy', app, '--confirm', app]);
      }
      await platform.stop();
    }
  });

  it('refuses every state-changing request without a valid session and CSRF token', async () => {
    const { cookie, csrf } = await signIn(platform);
    expect((await paas(platform, ['apps:create', 'csrf-probe'])).code).toBe(0);
    const json = { 'content-type': 'application/json' };
    const changes: Array<[string, string, string?]> = [
      ['POST', '/ui/api/apps', '{"name":"csrf-made"}'],
      ['DELETE', '/ui/api/apps/csrf-probe?confirm=csrf-probe'],
      ['PATCH', '/ui/api/apps/csrf-probe/config', '{"X":"1"}'],
      ['PATCH', '/ui/api/apps/csrf-probe/formation', '{"web":2}'],
      ['POST', '/ui/api/apps/csrf-probe/dynos/restart', '{}'],
      ['POST', '/ui/api/apps/csrf-probe/rollback', '{}'],
      ['POST', '/ui/api/apps/csrf-probe/domains', '{"hostname":"x.example.com"}'],
      ['PUT', '/ui/api/apps/csrf-probe', '{}'],
      ['POST', '/logout', 'csrf=nope'],
    ];
    const variants: Array<[string, Record<string, string>]> = [
      ['no session', {}],
      ['no session, a CSRF token from another session', { 'x-csrf-token': csrf }],
      ['a session without CSRF token', { cookie }],
      ['a session with a wrong CSRF token', { cookie, 'x-csrf-token': 'x'.repeat(csrf.length) }],
      ['a session and its CSRF token, sent from another site', { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' }],
    ];
    for (const [method, url, body] of changes) {
      for (const [why, headers] of variants) {
        const type = url === '/logout' ? { 'content-type': 'application/x-www-form-urlencoded' } : json;
        const res = await fetch(`${platform.apiUrl}${url}`, { method, headers: { ...type, ...headers }, body, redirect: 'manual' });
        expect(res.status, `${method} ${url} with ${why}`).toBe(403);
      }
    }
    // Nothing changed: no app made, the probe app still there with no config and no releases.
    const apps = JSON.parse((await paas(platform, ['apps', '--json'])).stdout).map((a: { name: string }) => a.name);
    expect(apps).toContain('csrf-probe');
    expect(apps).not.toContain('csrf-made');
    const session = { cookie, 'x-csrf-token': csrf };
    expect(await (await fetch(`${platform.apiUrl}/ui/api/apps/csrf-probe/config`, { headers: session })).json()).toEqual({});
    // Reads need the session too; the session still works (the refused logout did not end it).
    expect((await fetch(`${platform.apiUrl}/ui/state`)).status).toBe(401);
    expect((await fetch(`${platform.apiUrl}/ui/state`, { headers: { cookie } })).status).toBe(200);
    // With session and token the same request goes through, and the JSON API still wants its bearer token.
    const made = await fetch(`${platform.apiUrl}/ui/api/apps/csrf-probe?confirm=csrf-probe`, { method: 'DELETE', headers: session });
    expect(made.status).toBe(200);
    expect((await fetch(`${platform.apiUrl}/api/apps`, { headers: { cookie } })).status).toBe(401);
  });

  it('signs in with an API token', async () => {
    await page.goto(`${platform.apiUrl}/`);
    await page.waitForURL(/\/login$/);
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That API token is not valid').waitFor();
    await page.getByLabel('API token').fill(platform.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Apps', exact: true }).waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'paas_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
    // The token is nowhere in the page.
    expect(await page.content()).not.toContain(platform.token);
  });

  it('creates an app, and says why when it cannot', async () => {
    await page.getByLabel('App name').fill(APP);
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.locator(`#apps tr[data-app="${APP}"]`).getByText('no release').waitFor();

    await page.getByLabel('App name').fill(APP);
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.locator('#create-error').getByText(`app "${APP}" already exists`).waitFor();
  });

  it('shows a git push as a new release without a reload', async () => {
    await page.getByRole('link', { name: APP, exact: true }).click();
    await page.waitForURL(new RegExp(`/apps/${APP}$`));
    await page.locator('#app-state').getByText('no release').waitFor();

    const dir = fixtureRepo('dockerfile-app');
    addRemote(dir, platform, APP);
    const result = await push(dir);
    expect(result.code, result.output).toBe(0);

    await page.locator('#app-state').getByText('up', { exact: true }).waitFor({ timeout: LONG });
    await page.locator('#dynos tr[data-dyno="web.1"]').getByText('up').waitFor({ timeout: LONG });
    await page.locator('#latest-build').getByText('succeeded').waitFor();
    await page.getByRole('link', { name: 'Releases' }).click();
    await page.locator('#releases tr[data-version="1"]').getByText('current').waitFor({ timeout: LONG });
  });

  it('scales web to 2 and shows both dynos', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByLabel('web quantity').fill('2');
    await page.getByRole('button', { name: 'Save formation' }).click();
    await page.locator('#formation-msg').getByText('Scaled web=2').waitFor({ timeout: LONG });
    await page.locator('#dynos tr[data-dyno="web.2"]').getByText('up').waitFor({ timeout: LONG });
    await page.locator('#dynos tr[data-dyno="web.1"]').getByText('up').waitFor({ timeout: LONG });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'app.png'), fullPage: true });

    await page.getByRole('button', { name: 'Restart web' }).click();
    await page.locator('#formation-msg').getByText('Restarted web dynos.').waitFor({ timeout: LONG });
    await page.locator('#activity').getByText('Restarted web').first().waitFor({ state: 'attached', timeout: LONG });
    await page.locator('#dynos tr[data-dyno="web.2"]').getByText('up').waitFor({ timeout: LONG });
  });

  it('sets a config var as one new release', async () => {
    await page.getByRole('link', { name: 'Config vars' }).click();
    await page.getByRole('button', { name: 'Add a var' }).click();
    const rows = page.locator('#config tr.new');
    await rows.last().locator('input.key').fill('GREETING');
    await rows.last().locator('input.value').fill('hello there');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#config-msg').getByText('released v2').waitFor({ timeout: LONG });
    // Masked until revealed.
    const value = page.getByLabel('Value of GREETING');
    expect(await value.getAttribute('type')).toBe('password');
    await page.getByRole('button', { name: 'Reveal values' }).click();
    expect(await value.getAttribute('type')).toBe('text');
    expect(await value.inputValue()).toBe('hello there');

    await page.getByRole('link', { name: 'Releases' }).click();
    const v2 = page.locator('#releases tr[data-version="2"]');
    await v2.getByText('Set GREETING config vars').waitFor();
    await v2.getByText('current').waitFor({ timeout: LONG });
  });

  it('compares two releases and rolls back with confirmation', async () => {
    await page.getByLabel('From').selectOption('1');
    await page.getByLabel('to', { exact: true }).selectOption('2');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.locator('#diff').getByText('Config vars added: GREETING').waitFor();

    // Cancel first: nothing happens.
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    await page.getByRole('dialog').getByText('Roll back dash-app to v1?').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page.locator('#releases-msg').getByText('Rolled back to v1: released v3').waitFor({ timeout: LONG });
    const v3 = page.locator('#releases tr[data-version="3"]');
    await v3.getByText('Rollback to v1').waitFor();
    await v3.getByText('current').waitFor();
    expect(await page.locator('#releases tr').count()).toBe(4); // header + v1..v3: the cancel made none

    // The config page follows the rollback: GREETING is gone.
    await page.getByRole('link', { name: 'Config vars' }).click();
    await page.getByLabel('Value of GREETING').waitFor({ state: 'detached' });
  });

  it('streams app log lines into the live log view', async () => {
    await page.getByRole('link', { name: 'Logs' }).click();
    const status = page.locator('#log-status');
    await status.getByText(/Streaming|unavailable/).waitFor();
    expect(await status.textContent(), 'the live log stream (GET /api/apps/:app/logs/stream)').toContain('Streaming');
    await page.getByLabel('Source').selectOption('app');
    await page.getByRole('button', { name: 'Apply' }).click();
    await status.getByText('Streaming').waitFor();
    const marker = `/dashboard-log-${Date.now()}`;
    const log = page.locator('#log');
    await expect.poll(async () => {
      await routerGet(platform, `${APP}.localhost`, marker);
      return log.textContent();
    }, { timeout: LONG, interval: 2000 }).toContain(marker);
    expect(await log.textContent()).toMatch(/app\[web\.\d\]:/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'logs.png') });

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
  });

  it('shows builds with their output and the activity', async () => {
    await page.getByRole('link', { name: 'Builds' }).click();
    await page.locator('#builds').getByRole('button', { name: 'Output' }).first().click();
    await page.locator('#build-output').getByText(/Dockerfile|Step|COPY/).first().waitFor();
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.locator('#activity').getByText('Rollback to v1').first().waitFor();
  });

  it('adds and removes a custom domain, and shows the API error in words', async () => {
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.locator('#domains').getByText(`${APP}.localhost`).waitFor();
    await page.getByLabel('Hostname').fill('www.dash-app.example');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.locator('#domains-msg').getByText('Added www.dash-app.example').waitFor();
    await page.getByLabel('Hostname').fill('www.dash-app.example');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.locator('#domains-msg').getByText('already a domain of dash-app').waitFor();
    await page.getByRole('button', { name: 'Remove www.dash-app.example' }).click();
    await page.locator('#domains-msg').getByText('Removed www.dash-app.example').waitFor();
    await page.getByRole('button', { name: 'Remove www.dash-app.example' }).waitFor({ state: 'detached' });
  });

  it('lists the app as up with its dynos, then destroys it with a typed confirmation', async () => {
    await page.getByRole('link', { name: 'Apps', exact: true }).first().click();
    const row = page.locator(`#apps tr[data-app="${APP}"]`);
    await row.getByText('up', { exact: true }).waitFor({ timeout: LONG });
    await row.getByText('web 2').waitFor({ timeout: LONG });
    await row.getByText('v3').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'apps.png'), fullPage: true });

    await row.getByRole('link', { name: APP, exact: true }).click();
    // Destroyed while its two web dynos run: the supervisor must not start them again meanwhile.
    await page.getByRole('link', { name: 'Settings' }).click();
    const destroy = page.getByRole('button', { name: 'Destroy app' });
    await page.getByLabel(`Type ${APP} to confirm`).fill('wrong-name');
    expect(await destroy.isDisabled()).toBe(true);
    await page.getByLabel(`Type ${APP} to confirm`).fill(APP);
    await destroy.click();
    // Either the app is gone and we are back on the list, or the page says why not, in words.
    await page.waitForFunction(() => location.pathname === '/' || document.querySelector('#destroy-msg.error'), undefined, { timeout: LONG });
    const failure = new URL(page.url()).pathname === '/' ? '' : await page.locator('#destroy-msg').textContent();
    expect(failure).toBe('');
    await page.locator('#apps').getByText('No apps yet').waitFor();
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(`${platform.apiUrl}/`);
    await page.waitForURL(/\/login$/);
  });
});
