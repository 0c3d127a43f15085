import { describeConfig } from './config.ts';

/** The configuration as a Markdown table, as the README shows it. */
export function configTableMarkdown(): string {
  const rows = describeConfig().map(({ name, defaultValue, description }) =>
    `| \`${name}\` | ${defaultValue === '' ? '—' : `\`${defaultValue}\``} | ${description} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
