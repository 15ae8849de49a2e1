// Opens the site in headless Chromium like a person on a phone would: the front page, then the first
// area link. Prints what it saw as one JSON line for tests/web_pages.rs to check against the store,
// and saves a screenshot of the area page.
//
// Usage: node tests/web/browse.mjs BASE_URL SCREENSHOT.png
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const [base, screenshot] = process.argv.slice(2);
if (!base || !screenshot) {
  console.error('usage: node tests/web/browse.mjs BASE_URL SCREENSHOT.png');
  process.exit(2);
}

// A fresh profile each run: nothing cached, nothing from another test.
const userDataDir = mkdtempSync(join(tmpdir(), 'loadshed-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  chromiumSandbox: false,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  // A phone's viewport.
  viewport: { width: 390, height: 844 },
  // The pages forbid scripts (CSP); the accessibility checker is injected past that.
  bypassCSP: true,
  timeout: 60_000,
});

async function accessibility(page) {
  // The page as served, before the checker is injected: it must need no script.
  const scripts = await page.evaluate(() => document.scripts.length);
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'] } }),
  );
  return {
    scripts,
    violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.html) })),
    passes: result.passes.map((p) => p.id),
  };
}

try {
  const page = context.pages()[0] ?? (await context.newPage());
  const home = await page.goto(base, { waitUntil: 'load' });
  const homeSeen = {
    status: home.status(),
    lang: await page.getAttribute('html', 'lang'),
    h1: (await page.textContent('h1')).trim(),
    stage: (await page.textContent('.stage strong')).trim(),
    links: await page.$$eval('main a[href^="/areas/"]', (as) =>
      as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })),
    ),
    accessibility: await accessibility(page),
  };
  if (homeSeen.links.length === 0) {
    throw new Error('the front page links no area');
  }
  // Follow the first area link by clicking it, as a person would (on a fresh load: the checker
  // injected above must not be on the page that is checked next).
  await page.goto(base, { waitUntil: 'load' });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`main a[href="${homeSeen.links[0].href}"]`)]);
  const areaSeen = {
    url: page.url(),
    title: await page.title(),
    h1: (await page.textContent('h1')).trim(),
    stage: (await page.textContent('.stage strong')).trim(),
    next: (await page.textContent('p.next')).trim(),
    days: await page.$$eval('main section', (sections) =>
      sections.map((section) => ({
        heading: section.querySelector('h2').textContent.trim(),
        text: section.textContent.trim(),
        slots: [...section.querySelectorAll('li.slot')].map((li) => {
          const times = li.querySelectorAll('time');
          return {
            start: times[0].getAttribute('datetime'),
            end: times[1].getAttribute('datetime'),
            shownStart: times[0].textContent.trim(),
            shownEnd: times[1].textContent.trim(),
            visible: li.offsetParent !== null,
          };
        }),
      })),
    ),
    feed: await page.getAttribute('a[href^="http"][href$=".ics"]', 'href'),
    webcal: await page.getAttribute('a[href^="webcal:"]', 'href'),
    scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth),
  };
  await page.screenshot({ path: screenshot, fullPage: true });
  areaSeen.accessibility = await accessibility(page);
  console.log(JSON.stringify({ home: homeSeen, area: areaSeen }));
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
