/** Splitting a shell line into words, with "double" and 'single' quotes as a POSIX shell does. */
import { UsageError } from './failures';

/**
 * Outside quotes a backslash keeps the next character as is; inside double
 * quotes it does so only for `"` and `\`; inside single quotes nothing is
 * special. Quoted parts join the word around them, and `""` is an empty word.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (quote === "'") {
      if (char === "'") quote = null;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === '\\' && (line[index + 1] === '"' || line[index + 1] === '\\')) word += line[++index];
      else word += char;
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word ??= '';
      if (char === '"' || char === "'") quote = char;
      else if (char === '\\' && index + 1 < line.length) word += line[++index];
      else word += char;
    }
  }
  if (quote) throw new UsageError(`unclosed ${quote} quote`);
  if (word !== null) words.push(word);
  return words;
}
