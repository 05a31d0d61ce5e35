// An app's page: tabs for overview (formation, dynos, latest build), releases, config vars,
// logs, builds, domains, activity and settings, all kept live by one poll of /ui/state/APP.
import { $, appName, badge, changed, confirmDialog, h, poll, replace, request, say, table, when } from './dom.js';
import { configVars } from './config-vars.js';
import { logs } from './logs.js';

export function appPage() {
  const base = `/ui/api/apps/${encodeURIComponent(appName)}`;
  let state = null;

  // Tabs: one section visible, chosen by the URL's #hash, so every tab has a link.
  const showTab = (e) => {
    const id = location.hash.slice(1) || 'overview';
    const known = document.querySelector(`[data-section="${CSS.escape(id)}"]`) ? id : 'overview';
    for (const s of document.querySelectorAll('[data-section]')) s.hidden = s.dataset.section !== known;
    // Switching tabs moves focus to the section's heading, so keyboard and screen-reader users land there.
    const heading = e && document.querySelector(`[data-section="${known}"] h2`);
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
    for (const a of document.querySelectorAll('[data-tab]')) {
      if (a.dataset.tab === known) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (known === 'logs') logs.start();
  };

  // -- overview: formation, dynos, latest build
  const formationEl = $('#formation');
  const formationForm = $('#formation-form');
  const formationMsg = $('#formation-msg');
  const formationDirty = () => [...formationEl.querySelectorAll('input')].some((i) => i.value !== i.dataset.original);

  const renderFormation = (formation) => {
    if (formation === null) {
      $('#scale-button').hidden = true;
      $('#restart-all').hidden = true;
      return replace(formationEl, h('p', { class: 'muted' }, 'Scaling is not available on this platform yet.'));
    }
    if (formationDirty() || !changed('formation', formation)) return;
    if (formation.length === 0) return replace(formationEl, h('p', { class: 'muted' }, 'No process types yet: deploy with git push first.'));
    replace(formationEl, table('Formation', ['Process type', 'Command', 'Quantity', ''], formation.map((f) => h('tr', {},
      h('th', { scope: 'row' }, f.type),
      h('td', {}, h('code', {}, f.command ?? '(image default)')),
      h('td', {}, h('input', { type: 'number', min: 0, step: 1, name: f.type, value: f.quantity, 'data-original': String(f.quantity), 'aria-label': `${f.type} quantity`, class: 'qty' })),
      h('td', {}, h('button', { type: 'button', onclick: () => restart(f.type) }, `Restart ${f.type}`))))));
  };

  const restart = async (type) => {
    say(formationMsg, type ? `Restarting ${type}…` : 'Restarting all dynos…', 'pending');
    try {
      await request('POST', `${base}/dynos/restart`, type ? { type } : {});
      say(formationMsg, type ? `Restarted ${type} dynos.` : 'Restarted all dynos.');
      await refresh();
    } catch (err) {
      say(formationMsg, `Restart failed: ${err.message}`, 'error');
    }
  };
  $('#restart-all').addEventListener('click', () => restart(undefined));

  formationForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    for (const input of formationEl.querySelectorAll('input')) {
      if (input.value === input.dataset.original) continue;
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 0) {
        say(formationMsg, `${input.name}: the quantity must be a whole number, 0 or more.`, 'error');
        return input.focus();
      }
      body[input.name] = n;
    }
    if (Object.keys(body).length === 0) return say(formationMsg, 'Nothing to change.', 'ok');
    const what = Object.entries(body).map(([t, n]) => `${t}=${n}`).join(', ');
    say(formationMsg, `Scaling ${what}…`, 'pending');
    try {
      await request('PATCH', `${base}/formation`, body);
      for (const input of formationEl.querySelectorAll('input')) input.dataset.original = input.value;
      changed.seen.formation = undefined;
      say(formationMsg, `Scaled ${what}.`);
      await refresh();
    } catch (err) {
      say(formationMsg, `Scaling failed: ${err.message}`, 'error');
    }
  });

  const renderDynos = (dynos) => {
    if (!changed('dynos', dynos)) return;
    const el = $('#dynos');
    if (dynos === null) return replace(el, h('p', { class: 'muted' }, 'Dyno status is not available on this platform yet.'));
    if (dynos.length === 0) return replace(el, h('p', { class: 'muted' }, 'No dynos are running.'));
    const sorted = [...dynos].sort((a, b) => a.dyno.localeCompare(b.dyno, undefined, { numeric: true }));
    replace(el, table('Dynos', ['Dyno', 'State', 'Release', 'Started', 'Command'], sorted.map((d) => h('tr', { 'data-dyno': d.dyno },
      h('th', { scope: 'row' }, d.dyno),
      h('td', {}, badge(d.state)),
      h('td', {}, d.release ? `v${d.release}` : ''),
      h('td', {}, d.started_at ? when(d.started_at) : ''),
      h('td', {}, h('code', {}, d.command ?? '(image default)'))))));
  };

  const renderLatestBuild = (builds) => {
    const b = builds?.[0];
    if (!changed('latest-build', b ?? null)) return;
    const el = $('#latest-build');
    if (!b) return replace(el, h('p', { class: 'muted' }, 'No builds yet. Deploy with ', h('code', {}, 'git push paas main'), '.'), state?.git_url ? h('p', {}, 'Git URL: ', h('code', {}, state.git_url)) : null);
    replace(el, h('p', {}, badge(b.status), ' ', h('code', {}, (b.commit ?? '').slice(0, 7)), ` by ${b.user} `, when(b.created_at), ' ',
      h('a', { href: '#builds', onclick: () => showBuild(b.id) }, 'View output')));
  };

  // -- releases, rollback, diff
  const releasesMsg = $('#releases-msg');
  const renderReleases = (releases, current) => {
    if (!changed('releases', [releases, current])) return;
    const el = $('#releases');
    if (!releases || releases.length === 0) return replace(el, h('p', { class: 'muted' }, 'No releases yet.'));
    replace(el, table('Releases', ['Version', 'Description', 'By', 'When', 'Status', ''], releases.map((r) => h('tr', { 'data-version': r.version },
      h('th', { scope: 'row' }, `v${r.version}`),
      h('td', {}, r.description),
      h('td', {}, r.user),
      h('td', {}, when(r.created_at)),
      h('td', {}, r.version === current ? h('span', { class: 'badge state-up' }, 'current') : badge(r.status)),
      h('td', {}, r.status === 'succeeded' && r.version !== current && r.image_digest
        ? h('button', { type: 'button', class: 'small', onclick: () => rollback(r.version) }, `Roll back to v${r.version}`)
        : null)))));
    renderDiffChoices(releases);
  };

  const rollback = async (version) => {
    if (!(await confirmDialog(`Roll back ${appName} to v${version}? This creates a new release with the code and config vars of v${version}.`))) return;
    say(releasesMsg, `Rolling back to v${version}…`, 'pending');
    try {
      const { release } = await request('POST', `${base}/rollback`, { version });
      say(releasesMsg, `Rolled back to v${version}: released v${release.version}.`);
      await refresh();
    } catch (err) {
      say(releasesMsg, `Rollback to v${version} failed: ${err.message}`, 'error');
    }
  };

  const renderDiffChoices = (releases) => {
    const [from, to] = [$('#diff-from'), $('#diff-to')];
    const keep = [from.value, to.value];
    const options = () => releases.map((r) => h('option', { value: r.version }, `v${r.version}`));
    from.replaceChildren(...options());
    to.replaceChildren(...options());
    from.value = keep[0] || String(releases[1]?.version ?? releases[0].version);
    to.value = keep[1] || String(releases[0].version);
  };
  $('#diff-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const el = $('#diff');
    const [a, b] = [$('#diff-from').value, $('#diff-to').value];
    try {
      const d = await request('GET', `${base}/releases/${a}/diff/${b}`);
      const keys = (label, list) => h('li', {}, `${label}: `, list.length ? list.map((k, i) => [i ? ', ' : '', h('code', {}, k)]) : 'none');
      replace(el, h('ul', { class: 'diff' },
        keys('Config vars added', d.added),
        keys('Config vars removed', d.removed),
        keys('Config vars changed', d.changed),
        h('li', {}, `Code (image): ${d.image_changed ? 'changed' : 'unchanged'}`),
        h('li', {}, `Process types: ${d.process_types_changed ? 'changed' : 'unchanged'}`)));
    } catch (err) {
      replace(el, h('p', { class: 'msg error' }, `Could not compare v${a} and v${b}: ${err.message}`));
    }
  });

  const config = configVars(base, () => refresh());

  // -- builds
  let openBuild = null;
  const showBuild = async (id) => {
    openBuild = id;
    const card = $('#build-output-card');
    card.hidden = false;
    try {
      const b = await request('GET', `${base}/builds/${encodeURIComponent(id)}`);
      $('#build-output-title').textContent = `Build ${b.id.slice(0, 8)} · ${b.status}`;
      $('#build-output').textContent = b.output || '(no output yet)';
      return b;
    } catch (err) {
      $('#build-output').textContent = `Could not load the build: ${err.message}`;
    }
  };
  const renderBuilds = (builds) => {
    if (!changed('builds', builds)) return;
    const el = $('#builds');
    if (!builds || builds.length === 0) return replace(el, h('p', { class: 'muted' }, 'No builds yet.'));
    replace(el, table('Builds', ['Build', 'Status', 'Buildpack', 'Commit', 'By', 'When', 'Took', ''], builds.map((b) => h('tr', {},
      h('th', { scope: 'row' }, h('code', {}, b.id.slice(0, 8))),
      h('td', {}, badge(b.status)),
      h('td', {}, b.buildpack ?? ''),
      h('td', {}, h('code', {}, (b.commit ?? '').slice(0, 7))),
      h('td', {}, b.user),
      h('td', {}, when(b.created_at)),
      h('td', {}, b.duration_ms ? `${(b.duration_ms / 1000).toFixed(1)} s` : ''),
      h('td', {}, h('button', { type: 'button', class: 'small', onclick: async () => { await showBuild(b.id); $('#build-output').focus(); } }, 'Output'))))));
    if (openBuild && builds.find((b) => b.id === openBuild)) void showBuild(openBuild);
  };

  // -- domains (issue 6): a placeholder until the API exists
  const renderDomains = (domains) => {
    if (!changed('domains', domains)) return;
    const el = $('#domains');
    const form = $('#domain-form');
    if (domains === null) {
      form.hidden = true;
      return replace(el, h('p', { class: 'muted' }, `Custom domains are not available on this platform yet. ${appName} answers at `, h('code', {}, state?.web_url ?? ''), '.'));
    }
    form.hidden = false;
    replace(el, h('ul', { class: 'plain' }, domains.map((d) => h('li', { 'data-host': d.hostname }, h('code', {}, d.hostname), ' ',
      d.kind === 'default'
        ? h('span', { class: 'muted' }, '(default)')
        : h('button', { type: 'button', class: 'small', onclick: () => removeDomain(d.hostname) }, `Remove ${d.hostname}`)))));
  };
  const removeDomain = async (hostname) => {
    try {
      await request('DELETE', `${base}/domains/${encodeURIComponent(hostname)}`);
      say($('#domains-msg'), `Removed ${hostname}.`);
      await refresh();
    } catch (err) {
      say($('#domains-msg'), `Could not remove ${hostname}: ${err.message}`, 'error');
    }
  };
  const domainForm = $('#domain-form');
  domainForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const hostname = domainForm.elements.hostname.value.trim();
    try {
      await request('POST', `${base}/domains`, { hostname });
      domainForm.reset();
      say($('#domains-msg'), `Added ${hostname}.`);
      await refresh();
    } catch (err) {
      say($('#domains-msg'), `Could not add ${hostname}: ${err.message}`, 'error');
    }
  });

  // -- activity
  const renderActivity = (events) => {
    if (!changed('activity', events)) return;
    const el = $('#activity');
    if (!events.length) return replace(el, h('p', { class: 'muted' }, 'Nothing yet.'));
    replace(el, h('ol', { class: 'activity' }, events.map((e) => h('li', {}, when(e.created_at), ' ', h('strong', {}, e.actor), ' ', e.message))));
  };

  // -- destroy
  const destroyForm = $('#destroy-form');
  destroyForm.elements.confirm.addEventListener('input', (e) => {
    $('#destroy-button').disabled = e.currentTarget.value !== appName;
  });
  destroyForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = $('#destroy-msg');
    if (destroyForm.elements.confirm.value !== appName) return say(msg, `Type ${appName} to confirm.`, 'error');
    say(msg, `Destroying ${appName}…`, 'pending');
    try {
      await request('DELETE', `${base}?confirm=${encodeURIComponent(appName)}`);
      location.assign('/');
    } catch (err) {
      say(msg, `Could not destroy ${appName}: ${err.message}`, 'error');
    }
  });

  // -- the poll that keeps everything live
  let configVersion = null;
  const refresh = async () => {
    let s;
    try {
      s = await request('GET', `/ui/state/${encodeURIComponent(appName)}`);
    } catch (err) {
      if (err.status === 404) {
        $('#app-state').replaceChildren(badge('destroyed'));
        return;
      }
      throw err;
    }
    state = s;
    if (changed('header', [s.state, s.web_url])) {
      $('#app-state').replaceChildren(badge(s.state));
      const url = $('#app-url');
      url.href = s.web_url;
      url.textContent = s.web_url;
    }
    renderFormation(s.formation);
    renderDynos(s.dynos);
    renderLatestBuild(s.builds);
    renderReleases(s.releases, s.release);
    renderBuilds(s.builds);
    renderDomains(s.domains);
    renderActivity(s.activity);
    // A release made elsewhere (CLI, rollback) may have changed the config: reload unless mid-edit.
    const newest = s.releases?.[0]?.version ?? 0;
    if (configVersion !== newest && config.loaded && !config.dirty()) {
      configVersion = newest;
      await config.load();
    } else if (configVersion === null) {
      configVersion = newest;
    }
  };

  window.addEventListener('hashchange', showTab);
  showTab();
  void config.load();
  poll(refresh);
}

