import { invalid } from '../errors.ts';

export type ProcessTypes = Record<string, string>;

const LINE = /^([A-Za-z0-9_-]+):\s*(.*)$/;

/** Parses a Procfile (`type: command` lines, `#` comments); a malformed line is refused, naming it. */
export function parseProcfile(text: string): ProcessTypes {
  const types: ProcessTypes = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw invalid(`Procfile line ${i + 1} is not "type: command": ${JSON.stringify(raw.slice(0, 80))}`);
    const [, type, command] = m;
    if (!command.trim()) throw invalid(`Procfile line ${i + 1}: process type "${type}" has no command`);
    if (type in types) throw invalid(`Procfile line ${i + 1}: process type "${type}" is defined twice`);
    types[type.toLowerCase()] = command.trim();
  });
  return types;
}

/** The `default_process_types` of a classic buildpack's `bin/release` YAML. */
export function parseReleaseYaml(yaml: string): ProcessTypes {
  const types: ProcessTypes = {};
  let inDefaults = false;
  for (const line of yaml.split(/\r?\n/)) {
    if (/^default_process_types:\s*(\{\s*\})?\s*$/.test(line)) {
      inDefaults = true;
      continue;
    }
    if (/^\S/.test(line)) inDefaults = false;
    const m = inDefaults && /^\s+([A-Za-z0-9_-]+):\s*(.+)$/.exec(line);
    if (m) types[m[1]] = unquote(m[2].trim());
  }
  return types;
}

function unquote(s: string): string {
  if ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'"))) return s.slice(1, -1);
  return s;
}
