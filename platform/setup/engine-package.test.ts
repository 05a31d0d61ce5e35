import { describe, expect, it } from 'vitest';
import { debianCodename, pinFor, sourcesFor } from './engine-package.ts';

describe('engine package source', () => {
  it('reads the codename of Debian only', () => {
    expect(debianCodename('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n')).toBe('bookworm');
    expect(debianCodename('ID="debian"\nVERSION_CODENAME="trixie"')).toBe('trixie');
    expect(debianCodename('ID=ubuntu\nVERSION_CODENAME=noble\n')).toBeUndefined();
    expect(debianCodename('')).toBeUndefined();
  });

  it('takes only the engine from the newer release', () => {
    const stanzas = pinFor('trixie').split('\n\n').map((s) => Object.fromEntries(s.trim().split('\n').map((l) => l.split(/: (.*)/s).slice(0, 2))));
    expect(stanzas).toEqual([
      { Package: '*', Pin: 'release n=trixie', 'Pin-Priority': '1' },
      { Package: '*', Pin: 'release n=trixie-security', 'Pin-Priority': '1' },
      { Package: 'docker.io docker-cli', Pin: 'release n=trixie', 'Pin-Priority': '990' },
      { Package: 'docker.io docker-cli', Pin: 'release n=trixie-security', 'Pin-Priority': '990' },
    ]);
  });

  it('signs the sources with the Debian archive keyring', () => {
    const text = sourcesFor('trixie');
    expect(text).toMatch(/^Suites: trixie$/m);
    expect(text).toMatch(/^Suites: trixie-security$/m);
    expect(text.match(/^Signed-By: \/usr\/share\/keyrings\/debian-archive-keyring\.gpg$/gm)).toHaveLength(2);
  });
});
