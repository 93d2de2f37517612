/**
 * Minimal types for twitter-text 3.1 (CommonJS, ships no types, and @types/twitter-text is not installed).
 * Only what kikimimi calls is declared; under Node's ESM loader the default import is `module.exports`.
 */
declare module 'twitter-text' {
  /** The result of {@link TwitterText.parseTweet}; ranges are UTF-16 indices, inclusive. */
  interface ParsedTweet {
    weightedLength: number;
    permillage: number;
    valid: boolean;
    validRangeStart: number;
    validRangeEnd: number;
    displayRangeStart: number;
    displayRangeEnd: number;
  }

  /** A URL found in text; `indices` are UTF-16 offsets, end exclusive. */
  interface UrlEntity {
    url: string;
    indices: [number, number];
  }

  /** A mention found in text; `indices` are UTF-16 offsets of `@name`, end exclusive. */
  interface MentionEntity {
    screenName: string;
    indices: [number, number];
  }

  interface TwitterText {
    parseTweet(text: string): ParsedTweet;
    extractMentions(text: string): string[];
    extractMentionsWithIndices(text: string): MentionEntity[];
    extractUrlsWithIndices(text: string, options?: { extractUrlsWithoutProtocol?: boolean }): UrlEntity[];
    /** URLs, mentions, hashtags and cashtags, overlaps removed (a "/@name" inside a URL is the URL's). */
    extractEntitiesWithIndices(
      text: string,
    ): Array<UrlEntity | MentionEntity | { indices: [number, number] }>;
    regexen: {
      /** What may not follow a mention: another at sign, a Latin accented letter or "://". */
      endMentionMatch: RegExp;
    };
  }

  const twitterText: TwitterText;
  export default twitterText;
}
