// git's pre-receive hook: forwards the pushed refs (and the quarantine object dirs, where the new
// objects are until the hook accepts them) to the platform, streams the build output back to the
// pusher as `remote:` lines, and exits with the deploy's status: non-zero rejects the push.
'use strict';
const http = require('node:http');

const EXIT_MARK = '\u0000PAAS-EXIT:';
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const updates = input.split('\n').filter(Boolean).map((line) => {
    const [oldRev, newRev, ref] = line.split(' ');
    return { oldRev, newRev, ref };
  });
  const gitEnv = {};
  for (const key of ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH']) {
    if (process.env[key]) gitEnv[key] = process.env[key];
  }
  const body = JSON.stringify({ app: process.env.PAAS_APP, user: process.env.PAAS_USER, updates, gitEnv });
  const req = http.request(process.env.PAAS_HOOK_URL, {
    method: 'POST',
    headers: { authorization: `Bearer ${process.env.PAAS_HOOK_TOKEN}`, 'content-type': 'application/json' },
  }, (res) => {
    let tail = '';
    let code = 1;
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      const text = tail + chunk;
      const mark = text.indexOf('\u0000');
      if (mark < 0) {
        tail = '';
        process.stdout.write(text);
      } else {
        process.stdout.write(text.slice(0, mark));
        tail = text.slice(mark);
      }
    });
    res.on('end', () => {
      if (tail.startsWith(EXIT_MARK)) code = Number(tail.slice(EXIT_MARK.length)) || 0;
      else process.stdout.write(' !     the platform ended the deploy without a status\n');
      process.exitCode = code;
    });
  });
  req.on('error', (err) => {
    process.stdout.write(` !     cannot reach the platform: ${err.message}\n`);
    process.exitCode = 1;
  });
  req.end(body);
});
