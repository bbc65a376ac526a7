// Plain-text table formatting for terminal summaries (pure, width-aware).

export type Align = 'left' | 'right'

export interface Column {
  header: string
  align?: Align
}

/** Visible width of a string (strips ANSI colour codes). */
export function visibleWidth(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length
}

function pad(s: string, width: number, align: Align): string {
  const gap = Math.max(0, width - visibleWidth(s))
  return align === 'right' ? ' '.repeat(gap) + s : s + ' '.repeat(gap)
}

/**
 * Renders rows under headers, columns separated by two spaces, with a dashed
 * rule under the header. Missing cells render empty; extra cells are an error.
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  for (const [i, row] of rows.entries()) {
    if (row.length > columns.length) throw new RangeError(`row ${i} has ${row.length} cells for ${columns.length} columns`)
  }
  const widths = columns.map((c, i) => Math.max(visibleWidth(c.header), ...rows.map((r) => visibleWidth(r[i] ?? ''))))
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => pad(cells[i] ?? '', widths[i] ?? 0, c.align ?? 'left'))
      .join('  ')
      .trimEnd()
  const out = [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  ')]
  for (const row of rows) out.push(line(row))
  return out.join('\n')
}

/** Renders the same table as GitHub-flavoured Markdown. */
export function formatMarkdownTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|')
  const head = `| ${columns.map((c) => esc(c.header)).join(' | ')} |`
  const rule = `|${columns.map((c) => (c.align === 'right' ? '---:' : '---')).join('|')}|`
  const body = rows.map((r) => `| ${columns.map((_, i) => esc(r[i] ?? '')).join(' | ')} |`)
  return [head, rule, ...body].join('\n')
}
