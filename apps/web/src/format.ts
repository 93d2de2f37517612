/*
 * Number and date formatting shared by the pages. Intl formatters are costly to build (tens of
 * microseconds each; a page formats hundreds of values), so each is built once and reused.
 */

const numbers = new Intl.NumberFormat('en');

/** 12,345 */
export const formatNumber = (n: number): string => numbers.format(n);

const clocks = new Map<string, Intl.DateTimeFormat>();

/** "2026-11-24 10:42" (with `seconds`: "2026-11-24 10:42:05") in `timeZone`, an IANA zone. */
export function clockText(at: Date, timeZone: string, seconds = false): string {
  const key = `${timeZone}|${seconds}`;
  let format = clocks.get(key);
  if (format === undefined) {
    // Swedish writes dates the ISO way: 2026-11-24 10:42:05.
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      ...(seconds ? { second: '2-digit' } : {}),
      hourCycle: 'h23',
    });
    clocks.set(key, format);
  }
  return format.format(at);
}
