import { startPlatform, paas } from './test/helpers/platform-process.ts';
import { addRemote, fixtureRepo, push } from './test/helpers/git-app.ts';
import { removeOwned } from './test/helpers/remove-owned.ts';
import { createDocker } from './platform/docker.ts';
const platform = await startPlatform({ ownSessions: true });
const app = 'runprobe-' + Math.random().toString(16).slice(2, 6);
try {
  await paas(platform, ['apps:create', app]);
  const dir = fixtureRepo('env-app');
  addRemote(dir, platform, app);
  const r = await push(dir, ['paas', 'main'], { ownSession: true });
  if (r.code !== 0) throw new Error(r.output);
  await new Promise((r) => setTimeout(r, 15000)); // pool filled
  const t = await paas(platform, ['ps', '-a', app]);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = Date.now();
    const res = await paas(platform, ['run', '-a', app, 'true']);
    times.push(Date.now() - t0);
    if (res.code !== 0) console.log('run failed', res.stderr);
    await new Promise((r) => setTimeout(r, 1500));
  }
  const t0 = Date.now(); await paas(platform, ['ps', '-a', app]); const ps = Date.now() - t0;
  console.log('paas run true ms:', times.join(', '), ' median', [...times].sort((a, b) => a - b)[3], ' (paas ps:', ps, 'ms)');
} finally {
  await paas(platform, ['apps:destroy', app, '--confirm', app]);
  await platform.stop();
  await removeOwned(createDocker(), platform.owner);
}
