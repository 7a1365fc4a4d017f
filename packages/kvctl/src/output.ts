/**
 * The one home of `--output json|table|plain` (and `--json`, its shorthand):
 * the global options, and how a command's result is turned into text. A
 * command describes its result once (a Rendering: columns, rows, its own
 * text for a person) and prints it with `context.print(value, rendering)`.
 *
 * - json: the value itself (or `rendering.json`), on one line.
 * - table: a header row and aligned columns, `-` for nothing.
 * - plain: the same rows, no header, cells separated by a tab, one row per
 *   line; a tab, newline or backslash in a cell is written `\t`, `\n`, `\\`.
 * - no --output: the command's `text` (a sentence, a bare version), else the table.
 */
import { Option, type Command } from 'commander';
import { UsageError } from './failures';

export const OUTPUT_FORMATS = ['json', 'table', 'plain'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Rendering<T> {
  /** The header of table output; plain output has the same columns without it. */
  columns: readonly string[];
  /** One row of cells per thing shown, as many cells as columns. */
  rows(value: T): string[][];
  /** What a person sees without --output, without a final newline; absent: the table. */
  text?(value: T): string;
  /** What --output json prints when it is not the value itself. */
  json?(value: T): unknown;
}

interface OutputFlags {
  output?: OutputFormat;
  json?: boolean;
}

/**
 * Adds -o/--output and --json to a command tree's root, before its
 * commands: they apply to every command under it, and its help shows them.
 * A contradiction is refused before any command acts.
 */
export function addOutputOptions(root: Command): Command {
  return root
    .addOption(new Option('-o, --output <format>', 'print results as json, an aligned table, or plain tab-separated rows').choices(OUTPUT_FORMATS))
    .option('--json', 'the same as --output json')
    .configureHelp({ showGlobalOptions: true })
    .hook('preAction', () => void chosenFormat(root.opts()));
}

/** The format chosen on a command line; undefined when none was, so each command shows its own default. */
export function chosenFormat(flags: OutputFlags): OutputFormat | undefined {
  if (flags.json && flags.output !== undefined && flags.output !== 'json') {
    throw new UsageError(`--json means --output json; it cannot go with --output ${flags.output}`);
  }
  return flags.json ? 'json' : flags.output;
}

/** The whole output for one result, ending with a newline unless it is empty. */
export function render<T>(value: T, rendering: Rendering<T>, format: OutputFormat | undefined): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(rendering.json ? rendering.json(value) : value)}\n`;
    case 'plain':
      return rendering.rows(value).map((row) => `${row.map(escapeCell).join('\t')}\n`).join('');
    case 'table':
      return `${formatTable(rendering.columns, rendering.rows(value))}\n`;
    case undefined:
      return `${rendering.text ? rendering.text(value) : formatTable(rendering.columns, rendering.rows(value))}\n`;
  }
}

/** A header row and the rows, each column as wide as its widest cell, two spaces apart. */
export function formatTable(columns: readonly string[], rows: readonly string[][]): string {
  const all = [columns, ...rows];
  const widths = columns.map((_, column) => Math.max(...all.map((row) => row[column]!.length)));
  return all.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/** `-` for nothing known, so that no cell is empty and columns stay countable. */
export function cell(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}

function escapeCell(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (char) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[char]!);
}
