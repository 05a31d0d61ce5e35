import type { Platform } from '../platform.ts';
import type { App, Domain } from '../store/schema.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { domainsRepo } from './domains-repo.ts';
import { checkHostname } from './hostname.ts';

export interface DomainView {
  id: string;
  hostname: string;
  kind: 'default' | 'custom';
  created_at: string | null;
}

/**
 * An app's hostnames: the default `APP.$PAAS_DOMAIN` plus custom domains. A host belongs to one
 * app; every change republishes routes.json, which the router picks up within a second.
 */
export function domainsService(p: Platform) {
  const repo = domainsRepo(p.db);
  const suffix = `.${p.settings.domain}`;
  const view = (d: Domain): DomainView => ({ id: d.id, hostname: d.hostname, kind: 'custom', created_at: d.createdAt });

  /** `NAME.$PAAS_DOMAIN` and `*.$PAAS_DOMAIN` are the platform's: an app's default host, now or once that app exists. */
  const checkNamespace = (app: App, host: string) => {
    if (!host.endsWith(suffix)) return;
    const label = host.slice(0, -suffix.length);
    if (label === '*') throw invalid(`${host} would capture every app's default host under ${p.settings.domain}`);
    if (label.includes('.')) return;
    if (label === app.name) throw conflict(`${host} is already ${app.name}'s default hostname`);
    throw conflict(`${host} is in the platform's namespace: it is the default hostname of app "${label}"`);
  };

  return {
    list(app: App): DomainView[] {
      const own = `${app.name}${suffix}`;
      return [{ id: `default:${app.name}`, hostname: own, kind: 'default', created_at: app.createdAt }, ...repo.ofApp(app.id).map(view)];
    },

    add(app: App, hostname: unknown): DomainView {
      const host = checkHostname(hostname);
      checkNamespace(app, host);
      const taken = repo.owner(host);
      if (taken) throw conflict(taken.app === app.name ? `${host} is already a domain of ${app.name}` : `${host} belongs to another app`);
      const row = repo.insert(app.id, host);
      p.routes.publish();
      return view(row);
    },

    remove(app: App, hostname: string): DomainView {
      const host = hostname.trim().toLowerCase().replace(/\.$/, '');
      const found = repo.ofApp(app.id).find((d) => d.hostname === host);
      if (!found) {
        if (host === `${app.name}${suffix}`) throw invalid(`${host} is ${app.name}'s default hostname and cannot be removed`);
        throw notFound(`domain ${host} of ${app.name}`);
      }
      repo.delete(app.id, host);
      p.routes.publish();
      return view(found);
    },
  };
}
