/** Scenario files: JSON timelines of simulator events (see events.ts and the README). */
import { readFile } from 'node:fs/promises';
import { UserError } from '../session/errors.ts';
import { describeIssue, scenarioSchema, type Scenario } from './events.ts';

/** Reads and checks a scenario file, or throws a UserError naming the file and the problem. */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(
      `Cannot read the scenario file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`The scenario file ${file} is not valid JSON (${(error as Error).message}).`);
  }
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success)
    throw new UserError(`The scenario file ${file} has a problem at ${describeIssue(parsed.error)}.`);
  return { ...parsed.data, events: [...parsed.data.events].sort((a, b) => a.at - b.at) };
}
