/**
 * Redis-style log lines: "pid:role dd Mon yyyy hh:mm:ss.mmm <level> message",
 * with Redis's level marks (. debug, - verbose, * notice, # warning).
 */
import fs from 'node:fs';

const LEVELS = ['debug', 'verbose', 'notice', 'warning'] as const;
export type LogLevel = (typeof LEVELS)[number];
const MARKS = ['.', '-', '*', '#'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let minLevel = 2;
let fd = 1;
let role = 'M';

export function configureLog(level: string, file: string): void {
  const i = LEVELS.indexOf(level as LogLevel);
  minLevel = i < 0 ? 2 : i;
  fd = file ? fs.openSync(file, 'a') : 1;
}

export function setLogLevel(level: string): void {
  const i = LEVELS.indexOf(level as LogLevel);
  if (i >= 0) minLevel = i;
}

export function setLogRole(r: string): void {
  role = r;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function log(level: LogLevel, message: string): void {
  const i = LEVELS.indexOf(level);
  if (i < minLevel) return;
  const d = new Date();
  const stamp = `${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const line = `${process.pid}:${role} ${stamp} ${MARKS[i]} ${message}\n`;
  try {
    fs.writeSync(fd, line);
  } catch {
    // A closed stdout must not take the server down.
  }
}

/** A block written as is, without the line prefix (Redis's LL_RAW), at notice level. */
export function logRaw(text: string): void {
  if (minLevel > LEVELS.indexOf('notice')) return;
  try {
    fs.writeSync(fd, text);
  } catch {
    // A closed stdout must not take the server down.
  }
}
