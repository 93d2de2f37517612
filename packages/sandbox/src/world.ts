/** A post to put on a stand-in platform, in platform-neutral terms. */
export interface SandboxPostInput {
  readonly text: string;
  readonly author: {
    readonly handle: string;
    readonly name?: string;
    readonly id?: string;
    readonly followers?: number;
    readonly protected?: boolean;
  };
  readonly lang?: string;
  /** Default: now. */
  readonly createdAt?: Date | string;
  /** Id of the post this one replies to. */
  readonly inReplyTo?: string;
  /** Id of the post this one reposts. */
  readonly repostOf?: string;
  /** Default: the #tags in the text. */
  readonly hashtags?: readonly string[];
  /** Default: the @names in the text. */
  readonly mentions?: readonly string[];
}

/** A reply a connector made on a stand-in, as a test reads it back. */
export interface SandboxReply {
  readonly id: string;
  readonly inReplyTo: string;
  readonly text: string;
  /** The Idempotency-Key header (Mastodon) if one was sent. */
  readonly idempotencyKey: string | null;
  readonly visibility: string | null;
  readonly createdAt: string;
}

export const hashtagsIn = (text: string): string[] =>
  [...text.matchAll(/(?:^|[^\p{L}\p{N}_&/])[#＃]([\p{L}\p{M}\p{N}_]+)/gu)].map((m) => m[1] as string);

export const mentionsIn = (text: string): string[] =>
  [...text.matchAll(/(?:^|[^\p{L}\p{N}_/])[@＠]([a-z0-9_]+(?:@[a-z0-9.-]+[a-z0-9])?)/giu)].map(
    (m) => m[1] as string,
  );
