/**
 * The start-up banner. Like redis-server, weft shows it when
 * always-show-logo is yes or its output is a terminal, and otherwise logs
 * one "Running mode=..., port=..." line. The drawing is weft's own (a plain
 * weave); the fields beside it are redis-server's, on lines of their own,
 * so tools that read "Port:" and "PID:" from the log find them.
 */
import { logRaw, log } from './log.js';

const WEAVE = [
  '    _   _   _   _   _   _   _',
  '   / \\_/ \\_/ \\_/ \\_/ \\_/ \\_/ \\',
  '   \\_/ \\_/ \\_/ \\_/ \\_/ \\_/ \\_/',
  '   / \\_/ \\_/ \\_/ \\_/ \\_/ \\_/ \\',
  '   \\_/ \\_/ \\_/ \\_/ \\_/ \\_/ \\_/',
  '   / \\_/ \\_/ \\_/ \\_/ \\_/ \\_/ \\',
  '   \\_/ \\_/ \\_/ \\_/ \\_/ \\_/ \\_/',
];

export interface LogoFields {
  version: string;
  redisVersion: string;
  mode: 'standalone' | 'cluster';
  port: number;
  pid: number;
}

export function showStartup(fields: LogoFields, always: boolean): void {
  if (!always && !process.stdout.isTTY) {
    log('notice', `Running mode=${fields.mode}, port=${fields.port}.`);
    return;
  }
  const beside = [
    '',
    `weft ${fields.version} (Redis ${fields.redisVersion} compatible) 64 bit`,
    '',
    `Running in ${fields.mode} mode`,
    `Port: ${fields.port}`,
    `PID: ${fields.pid}`,
    '',
  ];
  const width = Math.max(...WEAVE.map((l) => l.length)) + 6;
  const lines = WEAVE.map((art, i) => (beside[i] ? art.padEnd(width) + beside[i] : art));
  logRaw(`${lines.join('\n')}\n\n`);
}
