import { describe, expect, it } from 'vitest';
import { PushTokens, parseHookBody } from './push-hook.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('pre-receive hook requests', () => {
  it('reads the quarantine directories, then the ref updates', () => {
    const body = `/r/objects/incoming-1\n/r/objects\n/r/objects/incoming-1\n${A} ${B} refs/heads/main\n`;
    expect(parseHookBody(body)).toEqual({
      gitEnv: { GIT_OBJECT_DIRECTORY: '/r/objects/incoming-1', GIT_ALTERNATE_OBJECT_DIRECTORIES: '/r/objects', GIT_QUARANTINE_PATH: '/r/objects/incoming-1' },
      updates: [{ oldRev: A, newRev: B, ref: 'refs/heads/main' }],
    });
  });

  it('leaves out directories git did not set', () => {
    expect(parseHookBody(`\n\n\n${A} ${B} refs/heads/main`).gitEnv).toEqual({});
  });

  it('knows a push by its secret only while it runs', () => {
    const pushes = new PushTokens();
    const token = pushes.issue({ app: 'web', user: 'ann' });
    expect(pushes.find(`Bearer ${token}`)).toEqual({ app: 'web', user: 'ann' });
    expect(pushes.find(token)).toBeUndefined();
    expect(pushes.find('Bearer nope')).toBeUndefined();
    pushes.revoke(token);
    expect(pushes.find(`Bearer ${token}`)).toBeUndefined();
  });
});
