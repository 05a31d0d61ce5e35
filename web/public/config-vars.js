// Config vars: edited locally, saved as one PATCH, which makes one release.
import { $, h, replace, request, say, table } from './dom.js';

/** `base` is the app's /ui/api URL; `refresh` re-polls the page after a save. */
export function configVars(base, refresh) {
  const configEl = $('#config');
  const configMsg = $('#config-msg');
  let configOriginal = null;
  let revealed = false;
  const configDirty = () => [...configEl.querySelectorAll('tr')].some((tr) =>
    tr.classList.contains('removed') || (tr.dataset.key === undefined && tr.querySelector('.key')?.value) ||
    (tr.dataset.key !== undefined && tr.querySelector('.value').value !== configOriginal[tr.dataset.key]));

  const valueInput = (label, value) => h('input', { type: revealed ? 'text' : 'password', class: 'value', value: value ?? '', 'aria-label': label, autocomplete: 'off', spellcheck: 'false' });
  const existingRow = (key, value) => {
    const input = valueInput(`Value of ${key}`, value);
    const remove = h('button', { type: 'button', class: 'small', 'aria-pressed': 'false', 'aria-label': `Remove ${key}` }, 'Remove');
    const row = h('tr', { 'data-key': key }, h('th', { scope: 'row' }, h('code', {}, key)), h('td', {}, input), h('td', {}, remove));
    remove.addEventListener('click', () => {
      const removed = row.classList.toggle('removed');
      input.disabled = removed;
      remove.setAttribute('aria-pressed', String(removed));
      remove.textContent = removed ? 'Undo remove' : 'Remove';
    });
    return row;
  };
  const newRow = () => {
    const n = configEl.querySelectorAll('tr.new').length + 1;
    const row = h('tr', { class: 'new' },
      h('td', {}, h('input', { class: 'key', 'aria-label': `New var ${n} key`, placeholder: 'KEY', autocomplete: 'off', spellcheck: 'false' })),
      h('td', {}, valueInput(`New var ${n} value`, '')),
      h('td', {}, h('button', { type: 'button', class: 'small', onclick: () => row.remove() }, 'Discard')));
    return row;
  };
  const renderConfig = (vars) => {
    configOriginal = vars;
    const keys = Object.keys(vars).sort();
    replace(configEl, table('Config vars', ['Key', 'Value', ''], [...keys.map((k) => existingRow(k, vars[k])), ...(keys.length ? [] : [newRow()])]));
  };
  const loadConfig = async () => {
    try {
      renderConfig(await request('GET', `${base}/config`));
    } catch (err) {
      replace(configEl, h('p', { class: 'msg error' }, `Could not load config vars: ${err.message}`));
    }
  };
  $('#config-add').addEventListener('click', () => {
    const row = newRow();
    configEl.querySelector('tbody')?.append(row);
    row.querySelector('.key').focus();
  });
  $('#config-reveal').addEventListener('click', (e) => {
    revealed = !revealed;
    for (const input of configEl.querySelectorAll('input.value')) input.type = revealed ? 'text' : 'password';
    e.currentTarget.textContent = revealed ? 'Hide values' : 'Reveal values';
    e.currentTarget.setAttribute('aria-pressed', String(revealed));
  });
  $('#config-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const patch = {};
    for (const tr of configEl.querySelectorAll('tr[data-key]')) {
      const key = tr.dataset.key;
      if (tr.classList.contains('removed')) patch[key] = null;
      else if (tr.querySelector('.value').value !== configOriginal[key]) patch[key] = tr.querySelector('.value').value;
    }
    for (const tr of configEl.querySelectorAll('tr.new')) {
      const key = tr.querySelector('.key').value.trim();
      if (key) patch[key] = tr.querySelector('.value').value;
    }
    if (Object.keys(patch).length === 0) return say(configMsg, 'Nothing to save.', 'ok');
    say(configMsg, 'Saving and releasing…', 'pending');
    $('#config-save').disabled = true;
    try {
      const { release } = await request('PATCH', `${base}/config`, patch);
      say(configMsg, `Saved: released v${release.version} (${release.description}).`);
      await loadConfig();
      await refresh();
    } catch (err) {
      say(configMsg, `Could not save config vars: ${err.message}`, 'error');
    } finally {
      $('#config-save').disabled = false;
    }
  });


  return { load: loadConfig, dirty: configDirty, get loaded() { return configOriginal !== null; } };
}
