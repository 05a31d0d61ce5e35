import type { Command } from 'commander';
import readline from 'node:readline/promises';
import { api } from '../api-client.ts';
import { apiUrl, saveCredentials, saveNetrc } from '../credentials.ts';
import { CliError } from '../errors.ts';

async function askToken(): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    return (await rl.question(`API token for ${apiUrl()}: `)).trim();
  } finally {
    rl.close();
  }
}

export function register(program: Command) {
  program
    .command('login')
    .description('save an API token (the admin token `npm start` prints) for the CLI and for git pushes')
    .option('--token <token>', 'the token (default: PAAS_TOKEN, else asked on stdin)')
    .action(async (opts: { token?: string }) => {
      const token = opts.token || process.env.PAAS_TOKEN || (await askToken());
      if (!token) throw new CliError('no token given');
      const account = await api<{ name: string }>('GET', '/api/account', undefined, token);
      const url = apiUrl();
      saveCredentials({ apiUrl: url, token });
      saveNetrc(new URL(url).hostname, token);
      console.log(`Logged in to ${url} as ${account.name}`);
    });
}
