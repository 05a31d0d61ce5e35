// The apps list: state, release, dynos and URL of every app, kept live; create an app.
import { $, badge, changed, h, poll, replace, request, say, table } from './dom.js';

export function appsPage() {
  const form = $('#create-app');
  const error = $('#create-error');
  const list = $('#apps');

  const render = (apps) => {
    if (!changed('apps', apps)) return;
    if (apps.length === 0) return replace(list, h('p', { class: 'muted' }, 'No apps yet. Create one above, then git push to it.'));
    replace(list, table('Apps', ['Name', 'State', 'Release', 'Dynos', 'URL'], apps.map((a) => h('tr', { 'data-app': a.name },
      h('td', {}, h('a', { href: `/apps/${a.name}`, class: 'app-link' }, a.name)),
      h('td', {}, badge(a.state)),
      h('td', {}, a.release ? `v${a.release}` : '—'),
      h('td', {}, Object.keys(a.dyno_counts).length ? Object.entries(a.dyno_counts).map(([t, n]) => `${t} ${n}`).join(' · ') : '—'),
      h('td', {}, h('a', { href: a.web_url, target: '_blank', rel: 'noopener' }, a.web_url))))));
  };
  const refresh = async () => render(await request('GET', '/ui/state'));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = form.elements.name.value.trim();
    say(error, '');
    form.elements.name.removeAttribute('aria-invalid');
    try {
      await request('POST', '/ui/api/apps', { name });
      form.reset();
      await refresh();
      list.querySelector(`tr[data-app="${CSS.escape(name)}"] a`)?.focus();
    } catch (err) {
      say(error, `Could not create ${name}: ${err.message}`, 'error');
      form.elements.name.setAttribute('aria-invalid', 'true');
      form.elements.name.focus();
    }
  });
  poll(refresh);
}
