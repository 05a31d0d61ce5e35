import type { App } from '../store/schema.ts';
import { conflict, notFound } from '../errors.ts';
import type { Platform } from '../platform.ts';
import { appsRepo } from './apps-repo.ts';
import { checkAppName } from './app-name.ts';

/** Removes one kind of thing an app owns (containers, images, repo…) and says what it removed. */
export type Teardown = (app: App) => Promise<string[]>;

export function appsService(p: Platform) {
  const repo = appsRepo(p.db);
  return {
    async create(name: unknown, actor: string): Promise<App> {
      const valid = checkAppName(name);
      if (repo.byName(valid)) throw conflict(`app "${valid}" already exists`);
      const app = repo.insert(valid);
      for (const setup of p.appSetups) await setup(app);
      p.events.record(app.name, 'app.created', actor, `Created app ${app.name}`);
      return app;
    },
    list(): App[] {
      return repo.all();
    },
    get(name: string): App {
      const app = repo.byName(name);
      if (!app) throw notFound(`app "${name}"`);
      return app;
    },
    async destroy(name: string, actor: string): Promise<string[]> {
      const app = this.get(name);
      const removed: string[] = [];
      for (const teardown of p.teardowns) removed.push(...(await teardown(app)));
      repo.delete(app.id);
      removed.push(`app record ${app.name} with its releases, builds, config vars and formation`);
      p.events.record(app.name, 'app.destroyed', actor, `Destroyed app ${app.name}`);
      return removed;
    },
  };
}
