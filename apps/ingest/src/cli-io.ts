/** The value after `name` in the arguments (`--out FILE`), or undefined. */
export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** One progress line: rewritten in place on a terminal, every step on its own line otherwise (a log). */
export function progressLine(text: string, last: boolean): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${text}\x1b[K${last ? '\n' : ''}`);
  else process.stderr.write(`${text}\n`);
}
