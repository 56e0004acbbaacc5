import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { RuleFileError, RuleSet, parseRuleSet } from '@dustwatch/rules';

/** Reads and validates the rule file (YAML or JSON); no file means the domain defaults. */
export function loadRuleFile(path: string | undefined): RuleSet {
  if (path === undefined) return parseRuleSet({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RuleFileError([
      `DUSTWATCH_RULES_FILE=${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    ]);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new RuleFileError([`${path}: not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  try {
    return parseRuleSet(document ?? {});
  } catch (error) {
    if (error instanceof RuleFileError) throw new RuleFileError(error.problems.map((p) => `${path}: ${p}`));
    throw error;
  }
}
