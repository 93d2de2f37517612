/** English sentences in a text: three or more English words in a row ("Too small: expected number"). */
export function englishIn(text: string): string[] {
  return text.match(/[A-Za-z]{2,}(?:[\s,;:'’]+[A-Za-z]{2,}){2,}/gu) ?? [];
}
