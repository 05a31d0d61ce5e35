import { describe, expect, it } from 'vitest';
import { parseProcfile, parseReleaseYaml } from './procfile.ts';

describe('Procfile', () => {
  it('reads types and commands, skipping comments and blank lines', () => {
    expect(parseProcfile('# comment\nweb: node server.js --port $PORT\n\nworker:   node worker.js\nrelease: ./migrate\n')).toEqual({
      web: 'node server.js --port $PORT',
      worker: 'node worker.js',
      release: './migrate',
    });
  });

  it.each(['web node server.js', 'we b: x', 'web:', ': x', 'web: a\nweb: b'])('refuses the malformed Procfile %j', (text) => {
    expect(() => parseProcfile(text)).toThrow(/Procfile line/);
  });
});

describe('bin/release YAML', () => {
  it('reads default_process_types', () => {
    expect(parseReleaseYaml('---\naddons: []\ndefault_process_types:\n  web: npm start\n  worker: "node w.js"\nconfig_vars: {}\n')).toEqual({ web: 'npm start', worker: 'node w.js' });
  });
  it('reads an empty mapping', () => {
    expect(parseReleaseYaml('---\ndefault_process_types: {}\n')).toEqual({});
  });
});
