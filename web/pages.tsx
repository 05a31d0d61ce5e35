import type { Child } from 'hono/jsx';

/**
 * Server-rendered shells: the layout, forms and empty regions. `web/public/dashboard.js` fills the
 * regions from the dashboard's JSON endpoints and keeps them live by polling.
 */
function Layout(props: { title: string; user?: string; csrf?: string; page: string; app?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {props.csrf ? <meta name="csrf-token" content={props.csrf} /> : null}
        <title>{props.title} · paas</title>
        <link rel="stylesheet" href="/static/style.css" />
        <script type="module" src="/static/dashboard.js"></script>
      </head>
      <body data-page={props.page} data-app={props.app ?? ''}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="topbar">
          <a class="brand" href="/">paas</a>
          {props.user ? (
            <nav aria-label="Account" class="account">
              <a href="/">Apps</a>
              <span class="muted">Signed in as {props.user}</span>
              <form method="post" action="/logout" class="inline">
                <input type="hidden" name="csrf" value={props.csrf} />
                <button type="submit" class="link">Sign out</button>
              </form>
            </nav>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>{props.children}</main>
      </body>
    </html>
  );
}

export function LoginPage(props: { error?: string }) {
  return (
    <Layout title="Sign in" page="login">
      <section class="card narrow">
        <h1>Sign in</h1>
        <p class="muted">Use an API token: the admin token printed by <code>npm start</code>, or the one <code>paas login</code> saved.</p>
        <form method="post" action="/login">
          <label for="token">API token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required autofocus
            aria-describedby={props.error ? 'login-error' : undefined} aria-invalid={props.error ? 'true' : undefined} />
          {props.error ? <p id="login-error" class="error" role="alert">{props.error}</p> : null}
          <button type="submit" class="primary">Sign in</button>
        </form>
      </section>
    </Layout>
  );
}

export function AppsPage(props: { user: string; csrf: string }) {
  return (
    <Layout title="Apps" page="apps" user={props.user} csrf={props.csrf}>
      <div class="page-head">
        <h1>Apps</h1>
      </div>
      <section class="card" aria-labelledby="create-title">
        <h2 id="create-title">Create app</h2>
        <form id="create-app" class="row">
          <label for="new-app-name" class="sr-only">App name</label>
          <input id="new-app-name" name="name" placeholder="app-name" required pattern="[a-z][a-z0-9\-]{1,28}[a-z0-9]"
            title="3 to 30 lowercase letters, digits and dashes, starting with a letter" aria-describedby="create-error" />
          <button type="submit" class="primary">Create app</button>
        </form>
        <p id="create-error" class="error" role="alert" hidden></p>
      </section>
      <section class="card" aria-labelledby="apps-title">
        <h2 id="apps-title" class="sr-only">Your apps</h2>
        <div id="apps" aria-busy="true"><p class="muted">Loading…</p></div>
      </section>
    </Layout>
  );
}

const TABS = [
  ['overview', 'Overview'],
  ['releases', 'Releases'],
  ['config', 'Config vars'],
  ['logs', 'Logs'],
  ['builds', 'Builds'],
  ['domains', 'Domains'],
  ['activity', 'Activity'],
  ['settings', 'Settings'],
] as const;

export function AppPage(props: { user: string; csrf: string; app: string }) {
  return (
    <Layout title={props.app} page="app" app={props.app} user={props.user} csrf={props.csrf}>
      <div class="page-head">
        <h1>
          <a href="/" class="muted">Apps</a> / <span id="app-name">{props.app}</span>
        </h1>
        <span id="app-state" aria-live="polite"></span>
        <a id="app-url" class="app-url" href="#" target="_blank" rel="noopener"></a>
      </div>
      <nav class="tabs" aria-label="App sections">
        {TABS.map(([id, label]) => <a href={`#${id}`} data-tab={id}>{label}</a>)}
      </nav>

      <section id="tab-overview" data-section="overview" aria-label="Overview">
        <div class="card">
          <h2>Formation</h2>
          <form id="formation-form">
            <div id="formation" aria-busy="true"><p class="muted">Loading…</p></div>
            <div class="row">
              <button type="submit" class="primary" id="scale-button">Save formation</button>
              <button type="button" id="restart-all">Restart all dynos</button>
            </div>
            <p id="formation-msg" class="msg" role="status"></p>
          </form>
        </div>
        <div class="card">
          <h2>Dynos</h2>
          <div id="dynos"><p class="muted">Loading…</p></div>
        </div>
        <div class="card">
          <h2>Latest build</h2>
          <div id="latest-build"><p class="muted">Loading…</p></div>
        </div>
      </section>

      <section id="tab-releases" data-section="releases" aria-label="Releases" hidden>
        <div class="card">
          <h2>Releases</h2>
          <p id="releases-msg" class="msg" role="status"></p>
          <div id="releases"><p class="muted">Loading…</p></div>
        </div>
        <div class="card">
          <h2>Compare releases</h2>
          <form id="diff-form" class="row">
            <label for="diff-from">From</label>
            <select id="diff-from" name="from"></select>
            <label for="diff-to">to</label>
            <select id="diff-to" name="to"></select>
            <button type="submit">Compare</button>
          </form>
          <div id="diff" aria-live="polite"></div>
        </div>
      </section>

      <section id="tab-config" data-section="config" aria-label="Config vars" hidden>
        <div class="card">
          <h2>Config vars</h2>
          <p class="muted">Changes are saved together as one new release.</p>
          <form id="config-form">
            <div id="config"><p class="muted">Loading…</p></div>
            <div class="row">
              <button type="button" id="config-add">Add a var</button>
              <button type="button" id="config-reveal">Reveal values</button>
              <button type="submit" class="primary" id="config-save">Save changes</button>
            </div>
            <p id="config-msg" class="msg" role="status"></p>
          </form>
        </div>
      </section>

      <section id="tab-logs" data-section="logs" aria-label="Logs" hidden>
        <div class="card">
          <h2>Live logs</h2>
          <form id="log-filters" class="row">
            <label for="log-source">Source</label>
            <select id="log-source" name="source">
              <option value="">all</option>
              <option value="app">app</option>
              <option value="router">router</option>
              <option value="paas">paas</option>
              <option value="build">build</option>
            </select>
            <label for="log-ps">Process</label>
            <input id="log-ps" name="ps" placeholder="e.g. web or web.1" size={12} />
            <button type="submit">Apply</button>
            <button type="button" id="log-pause" aria-pressed="false">Pause</button>
            <label class="check"><input type="checkbox" id="log-autoscroll" checked /> Auto-scroll</label>
            <button type="button" id="log-clear">Clear</button>
          </form>
          <p id="log-status" class="msg" role="status"></p>
          <pre id="log" class="log" tabindex={0} aria-label="Log lines"></pre>
        </div>
      </section>

      <section id="tab-builds" data-section="builds" aria-label="Builds" hidden>
        <div class="card">
          <h2>Builds</h2>
          <div id="builds"><p class="muted">Loading…</p></div>
        </div>
        <div class="card" id="build-output-card" hidden>
          <h2 id="build-output-title">Build output</h2>
          <pre id="build-output" class="log" tabindex={0}></pre>
        </div>
      </section>

      <section id="tab-domains" data-section="domains" aria-label="Domains" hidden>
        <div class="card">
          <h2>Domains</h2>
          <div id="domains"><p class="muted">Loading…</p></div>
          <form id="domain-form" class="row" hidden>
            <label for="domain-host" class="sr-only">Hostname</label>
            <input id="domain-host" name="hostname" placeholder="www.example.com" required />
            <button type="submit">Add domain</button>
          </form>
          <p id="domains-msg" class="msg" role="status"></p>
        </div>
      </section>

      <section id="tab-activity" data-section="activity" aria-label="Activity" hidden>
        <div class="card">
          <h2>Activity</h2>
          <div id="activity"><p class="muted">Loading…</p></div>
        </div>
      </section>

      <section id="tab-settings" data-section="settings" aria-label="Settings" hidden>
        <div class="card danger">
          <h2>Destroy app</h2>
          <p>This removes the app's containers, images, git repository, releases and config vars. It cannot be undone.</p>
          <form id="destroy-form">
            <label for="destroy-confirm">Type <strong>{props.app}</strong> to confirm</label>
            <input id="destroy-confirm" name="confirm" autocomplete="off" aria-describedby="destroy-msg" />
            <button type="submit" class="danger" id="destroy-button" disabled>Destroy app</button>
          </form>
          <p id="destroy-msg" class="msg" role="status"></p>
        </div>
      </section>

      <dialog id="confirm-dialog" aria-labelledby="confirm-text">
        <form method="dialog">
          <p id="confirm-text"></p>
          <div class="row">
            <button value="cancel" type="submit">Cancel</button>
            <button value="ok" type="submit" class="primary" id="confirm-ok">Confirm</button>
          </div>
        </form>
      </dialog>
    </Layout>
  );
}

export function NotFoundPage(props: { user: string; csrf: string; what: string }) {
  return (
    <Layout title="Not found" page="notfound" user={props.user} csrf={props.csrf}>
      <section class="card narrow">
        <h1>Not found</h1>
        <p>{props.what} does not exist. <a href="/">Back to apps</a></p>
      </section>
    </Layout>
  );
}
