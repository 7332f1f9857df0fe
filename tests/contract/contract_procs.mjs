// The processes the contract tests start, each stopped by pid at cleanup (tests/web/harness.mjs
// cleanups): a collector built from this tree, and a throwaway PostgreSQL 15 (Debian's binaries,
// initdb as the unprivileged user postgres or nobody, loopback only, fsync off), as
// tests/support/postgres_server.cpp starts it for the C++ suites.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { buildDir, cleanups, dist, freePort, killPid, pluginDir, run, sleep, waitFor } from '../web/harness.mjs';

// The collectors' logs, kept for a failed run to be read (overwritten by the next run).
export const logDir = path.join(buildDir, 'contract-logs');

/**
 * A collector on a free loopback port with its own data folder (removed at cleanup) and the built
 * pages when there are some: { dataDir, port, launch(extra) -> child }. Its stdout/stderr go to
 * <build>/contract-logs/<name>.log.
 */
export async function startCollector(exe, name, args, log) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `zc-contract-${name}-`));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const webArgs = fs.existsSync(path.join(dist, 'index.html')) ? ['--web-dir', dist] : [];
  return {
    dataDir, port, logFile,
    launch(extra = []) {
      const out = fs.openSync(logFile, 'w');
      const child = spawn(exe, ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--plugin-dir', pluginDir,
        '--router', 'none', ...webArgs, ...args, ...extra], { stdio: ['ignore', out, out] });
      fs.closeSync(out);
      cleanups.push(() => killPid(child, name, log));
      log(`${name}: pid ${child.pid} on 127.0.0.1:${port} (log: ${logFile})`);
      return child;
    },
  };
}

const kPgBin = '/usr/lib/postgresql/15/bin';
export const kPgUser = 'zc';
const kPgPassword = 'zc-test-secret';

export function postgresInstalled() {
  return fs.existsSync(`${kPgBin}/initdb`) && fs.existsSync(`${kPgBin}/postgres`);
}

async function idOf(user) {
  const u = await run('id', ['-u', user]);
  const g = await run('id', ['-g', user]);
  return u.code === 0 && g.code === 0 ? { uid: Number(u.stdout), gid: Number(g.stdout) } : null;
}

/** Starts PostgreSQL 15; resolves to { url } (libpq URI of database postgres) once it accepts. */
export async function startPostgres(log) {
  const who = (await idOf('postgres')) ?? (await idOf('nobody'));
  if (!who) throw new Error('no unprivileged user (postgres or nobody) for PostgreSQL');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-contract-pg-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chownSync(dir, who.uid, who.gid);
  fs.chmodSync(dir, 0o700);
  const pwfile = path.join(dir, 'pwfile');
  fs.writeFileSync(pwfile, `${kPgPassword}\n`);
  fs.chownSync(pwfile, who.uid, who.gid);
  const logFile = path.join(dir, 'postgres.log');
  const runAs = (cmd, args) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { uid: who.uid, gid: who.gid, cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    return child;
  };
  const init = runAs(`${kPgBin}/initdb`, ['-D', `${dir}/data`, '-U', kPgUser, `--pwfile=${pwfile}`,
    '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  const code = await Promise.race([new Promise((r) => init.once('exit', r)), sleep(120_000).then(() => 'timeout')]);
  if (code !== 0) {
    if (code === 'timeout') init.kill('SIGKILL');
    throw new Error(`initdb: ${code}: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
  }
  const port = await freePort();
  const pg = runAs(`${kPgBin}/postgres`, ['-D', `${dir}/data`, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=50', '-c', 'shared_buffers=32MB']);
  // SIGINT: the fast shutdown (ends sessions, exits); killPid's SIGTERM would wait for them.
  cleanups.push(async () => {
    if (pg.exitCode != null || pg.signalCode != null) return;
    const gone = new Promise((r) => pg.once('exit', r));
    process.kill(pg.pid, 'SIGINT');
    if ((await Promise.race([gone.then(() => 'ok'), sleep(20_000).then(() => 'late')])) === 'late') process.kill(pg.pid, 'SIGKILL');
  });
  log(`postgres: pid ${pg.pid} on 127.0.0.1:${port} (log: ${logFile})`);
  await waitFor('PostgreSQL to accept connections', () => {
    if (pg.exitCode != null) throw new Error(`postgres exited: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    return fs.readFileSync(logFile, 'utf8').includes('database system is ready to accept connections');
  }, 30_000, 100);
  return { url: `postgresql://${kPgUser}:${kPgPassword}@127.0.0.1:${port}/postgres` };
}
