import {
  type Config,
  checkTemplateText,
  measureReply,
  PLATFORMS,
  type Platform,
  type Post,
  postSchema,
  renderTemplate,
  replyAsPosted,
  type TemplateProblem,
} from '@kikimimi/rules';

/** A sample author and post per platform, so a template can be shown as a reply would look. */
export function samplePost(platform: Platform): Post {
  if (platform === 'bluesky')
    return postSchema.parse({
      platform,
      id: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l6oveex3ii2l',
      url: 'https://bsky.app/profile/hanako.bsky.social/post/3l6oveex3ii2l',
      author: {
        id: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
        handle: 'hanako.bsky.social',
        displayName: '山田 花子',
      },
      text: 'ブクログにログインできない…',
      createdAt: '2026-11-24T09:00:00Z',
    });
  return postSchema.parse(
    platform === 'x'
      ? {
          platform,
          id: '1860000000000000000',
          url: 'https://x.com/hanako_yamada/status/1860000000000000000',
          author: { id: '12345', handle: 'hanako_yamada', displayName: '山田 花子', followers: 120 },
          text: 'ブクログにログインできない…',
          createdAt: '2026-11-24T09:00:00Z',
        }
      : {
          platform,
          id: '113500000000000000',
          url: 'https://mstdn.jp/@hanako/113500000000000000',
          author: { id: '67890', handle: 'hanako@mstdn.jp', displayName: '山田 花子', followers: 120 },
          text: 'ブクログにログインできない…',
          createdAt: '2026-11-24T09:00:00Z',
        },
  );
}

/** How the template comes out on one platform for the sample post. */
export interface PlatformPreview {
  readonly platform: Platform;
  /** The reply text (rendered, or the template as written when it has problems). */
  readonly text: string;
  /** What is counted: on Mastodon the author's mention the connector prepends is part of it. */
  readonly counted: string;
  readonly length: number;
  readonly limit: number;
  readonly remaining: number;
  readonly ok: boolean;
  /** False when the template has problems: the raw text was measured instead. */
  readonly rendered: boolean;
}

export interface TemplatePreview {
  readonly problems: readonly TemplateProblem[];
  readonly previews: readonly PlatformPreview[];
}

export interface TemplatePreviewInput {
  readonly text: string;
  /** A platform, or '*' for every platform. */
  readonly platform: Platform | '*';
  /** The watches the template is for; the first names `{watch}` in the sample. */
  readonly watches?: readonly string[];
}

/**
 * Renders a template for the sample post and measures it the way the platform counts, exactly as the
 * rules engine does for a real match (measureReply is the truth; the browser only displays it).
 */
export function previewTemplate(config: Config, input: TemplatePreviewInput): TemplatePreview {
  const problems = checkTemplateText(input.text, Object.keys(config.variables));
  const watchId = input.watches?.[0] ?? config.watches[0]?.id ?? 'brand';
  const watch = config.watches.find((w) => w.id === watchId) ?? { id: watchId, name: undefined };
  const platforms = input.platform === '*' ? PLATFORMS : [input.platform];
  const previews = platforms.map((platform): PlatformPreview => {
    const post = samplePost(platform);
    const text =
      problems.length === 0
        ? renderTemplate(
            { text: input.text },
            { post, watch: { id: watch.id, name: watch.name }, variables: config.variables },
          )
        : input.text;
    const counted = replyAsPosted(text, platform, post.author.handle);
    const measured = measureReply(counted, platform, {
      maxCharacters: config.platforms.mastodon.maxCharacters,
    });
    return { platform, text, counted, ...measured, rendered: problems.length === 0 };
  });
  return { problems, previews };
}
