/** The terminal summary of a Report: totals, then each violation, then availability. */
import type { Report } from './analysis';
import type { Gap } from './availability';
import { describeOperation, relativeTime } from './describe';

export function formatReport(report: Report): string {
  const origin = report.startedAt;
  const op = (o: Parameters<typeof describeOperation>[0]): string => describeOperation(o, origin);
  const { byKind } = report.operations;
  const lin = report.linearizability;
  const lines: string[] = [
    `${report.valid ? 'VALID' : 'INVALID'}: ${report.operations.total} operations over ${(report.durationMs / 1000).toFixed(1)} s`,
    '  ' +
      (['read', 'write', 'cas', 'delete'] as const)
        .map((k) => `${k} ${byKind[k].ok} ok / ${byKind[k].fail} fail / ${byKind[k].unknown} unknown`)
        .join(' · '),
    `  acknowledged writes ${report.acknowledgedWrites} · lost ${report.lostWrites.count} (${report.lostWrites.atEnd} at the final reads)` +
      ` · stale reads ${report.staleReads.count} · never-written reads ${report.neverWritten.count}`,
    `  linearizability: ${lin.keys} keys, ${lin.linearizable} linearizable, ${lin.violations.count} violating, ` +
      `${lin.unknown.count} unknown (search budget) · ${lin.steps} steps in ${lin.elapsedMs} ms`,
  ];

  const more = (shown: number, count: number): void => {
    if (count > shown) lines.push(`  … and ${count - shown} more (see the JSON report)`);
  };
  if (report.lostWrites.count > 0) {
    lines.push('', 'Lost acknowledged writes:');
    for (const l of report.lostWrites.items) {
      lines.push(`  ${op(l.write)}`, `    not seen by ${l.atEnd ? 'the final read ' : ''}${op(l.read)}`);
    }
    more(report.lostWrites.items.length, report.lostWrites.count);
  }
  if (report.staleReads.count > 0) {
    lines.push('', 'Stale reads:');
    for (const s of report.staleReads.items) {
      const source = s.returned === undefined ? 'absent' : `the value of #${s.returned.id}`;
      lines.push(`  ${op(s.read)}`, `    returned ${source}, but ${op(s.newer)} had replaced it`);
    }
    more(report.staleReads.items.length, report.staleReads.count);
  }
  if (report.neverWritten.count > 0) {
    lines.push('', 'Reads of values never written:');
    for (const n of report.neverWritten.items) lines.push(`  ${op(n.read)}`);
    more(report.neverWritten.items.length, report.neverWritten.count);
  }
  if (lin.violations.count > 0) {
    lines.push('', 'Linearizability violations (smallest failing sub-history found):');
    for (const v of lin.violations.items) {
      lines.push(...v.explanation.split('\n').map((l) => '  ' + l));
      if (!v.minimal) lines.push('    (shrinking ran out of budget: maybe not minimal)');
    }
    more(lin.violations.items.length, lin.violations.count);
  }
  if (lin.unknown.count > 0) {
    lines.push('', `Keys not decided within the search budget: ${lin.unknown.items.map((u) => `${u.key} (${u.operations} ops)`).join(', ')}`);
    more(lin.unknown.items.length, lin.unknown.count);
  }

  const gap = (g: Gap): string => `${Math.round(g.ms)} ms (${relativeTime(g.from, origin)} → ${relativeTime(g.to, origin)})`;
  const { availability } = report;
  lines.push('', 'Availability: longest time without a successful operation');
  for (const p of availability.partitions) {
    lines.push(`  ${(p.partition === '*' ? 'all' : p.partition).padEnd(12)} ${String(p.okOps).padStart(8)} ok   ${gap(p.longestGap)}`);
  }
  if (availability.byFaultKind.length > 0) {
    lines.push('', `  ${'fault'.padEnd(20)} ${'count'.padStart(5)} ${'max gap'.padStart(10)} ${'mean gap'.padStart(10)} ${'recovery'.padStart(10)}`);
    for (const k of availability.byFaultKind) {
      const recovery = k.maxRecoveryMs === undefined ? '-' : `${Math.round(k.maxRecoveryMs)} ms`;
      lines.push(
        `  ${k.kind.padEnd(20)} ${String(k.faults).padStart(5)} ${`${Math.round(k.maxGapMs)} ms`.padStart(10)} ` +
          `${`${k.meanGapMs} ms`.padStart(10)} ${recovery.padStart(10)}`,
      );
    }
  }
  return lines.join('\n');
}
