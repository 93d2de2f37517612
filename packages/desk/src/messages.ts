import { fillText, type Lang, type Text } from '@kikimimi/runtime';
import type { DeskFailure, DeskProblem } from './outcomes.ts';
import type { SurgeSkip, SurgeSkipReason } from './surge-replies.ts';

/** The languages the desk answers in (the console's and Discord's: the one i18n system of @kikimimi/runtime). */
export type { Lang };

/*
 * What a refused decision says, in both front-ends: the console shows it next to the form (or in the
 * JSON API's `message`), Discord in the ephemeral answer. One text per code, so the two never drift.
 */
const FAILURES: { readonly [C in DeskFailure['code']]: Text } = {
  not_found: { ja: 'この投稿（マッチ）は見つかりません。', en: 'This match does not exist.' },
  forbidden: {
    ja: 'この操作はレビュー担当（Discord ではレビュー担当ロール、コンソールでは編集者か管理者）だけが行えます。',
    en: 'Only reviewers can do this (a reviewer role in Discord; an editor or admin in the console).',
  },
  already_handled: {
    ja: 'このマッチはすでに対応済みです（Discord か別のユーザーが対応しました）。',
    en: 'This match has already been handled (in Discord or by someone else).',
  },
  already_escalated: {
    ja: '{target} へはすでにエスカレーション済みです。',
    en: 'Already escalated to {target}.',
  },
  suppressed: {
    ja: '抑制されたマッチには返信できません（エスカレーションと見送りはできます）。',
    en: 'Suppressed matches cannot be replied to (they can be escalated or dismissed).',
  },
  post_deleted: {
    ja: '投稿者がこの投稿を削除したため、返信できません。',
    en: 'The author deleted this post: it can no longer be answered.',
  },
  no_account: {
    ja: 'このマッチには返信に使うアカウントがありません（インポートされた投稿か、アカウントが削除されました）。',
    en: 'There is no account to reply from (an imported post, or the account was removed).',
  },
  not_manual: {
    ja: '手動での投稿を待っている返信はありません。',
    en: 'There is no reply waiting to be posted by hand.',
  },
  not_retryable: {
    ja: '再送できる返信はありません（送信済みか、送信を待っています）。',
    en: 'There is no reply to send again (it was sent, or it is waiting to be sent).',
  },
  not_replied: {
    ja: '最初の返信がまだ送られていません（送信後にフォローアップできます）。',
    en: 'Our first reply has not gone out yet (follow-ups come after it).',
  },
  no_answer: {
    ja: 'お客さまからの返信がまだありません（フォローアップはお客さまの返信に答えるものです）。',
    en: 'The customer has not written back yet (a follow-up answers what they said).',
  },
  follow_up_suppressed: {
    ja: 'このフォローアップは送れません。{why}',
    en: 'This follow-up cannot be sent. {why}',
  },
  nothing_waiting: {
    ja: '選んだ急増のメンバーに返信を待っている人はいません（すべて対応済みです）。',
    en: 'None of the chosen members of the surge is waiting for a reply (all are handled).',
  },
  invalid: { ja: '入力内容を確認してください', en: 'Please check the form' },
};

const PROBLEMS: { readonly [C in DeskProblem['code']]: Text } = {
  empty: { ja: '返信の本文を入力してください。', en: 'Write the reply text.' },
  too_long: {
    ja: '長すぎます: {length} / {limit} 文字（{platform} の数え方）。',
    en: 'Too long: {length} / {limit} characters (as {platform} counts).',
  },
  unpostable: {
    ja: 'この本文は {platform} に投稿できません（使えない文字が含まれているか、相手のハンドルが不正です）。',
    en: 'This text cannot be posted on {platform} (it contains characters the platform refuses, or the author’s handle is not valid).',
  },
  input_too_long: { ja: '長すぎます（最大 {max} 文字）。', en: 'Too long (at most {max} characters).' },
  unknown_template: { ja: 'このテンプレートはありません。', en: 'There is no such template.' },
  unknown_category: { ja: 'カテゴリを選んでください。', en: 'Choose a category.' },
  unknown_target: {
    ja: 'このエスカレーション先はありません（{targets}）。',
    en: 'There is no such escalation target ({targets}).',
  },
  bad_url: { ja: 'http(s) の URL を入力してください。', en: 'Enter an http(s) URL.' },
  unknown_assignee: { ja: 'この担当者はいません。', en: 'There is no such teammate.' },
  unknown_state: {
    ja: '状態は「対応中」「お客さまの返信待ち」「解決済み」のどれかです。',
    en: 'The state is one of open, waiting for the customer, resolved.',
  },
  empty_note: { ja: 'メモを入力してください。', en: 'Write the note.' },
  unknown_identity: {
    ja: 'そのプラットフォームでこのハンドルの投稿者はまだ見たことがありません（kikimimi が投稿を受け取った相手だけを関連付けられます）。',
    en: 'kikimimi has not seen an author with this handle on that platform (only authors whose posts arrived can be linked).',
  },
  same_identity: { ja: '同じアカウントです。', en: 'That is the same account.' },
  empty_department: { ja: '部署を入力してください。', en: 'Name the department.' },
  unknown_answer: {
    ja: 'このケースにそのお客さまの返信はありません。',
    en: 'There is no such answer from the customer in this case.',
  },
  no_members: {
    ja: '返信するメンバーを選ぶか、「返信待ちのすべて」を選んでください。',
    en: 'Choose the members to answer, or “all waiting”.',
  },
  not_member: {
    ja: 'この急増のメンバーではない投稿が含まれています。',
    en: 'Some of the chosen posts are not members of this surge.',
  },
  too_many_members: {
    ja: '一度に返信できるのは {max} 件までです。',
    en: 'At most {max} members can be answered at once.',
  },
  bad_placeholder: {
    ja: '差し込み {placeholder} は使えません（使えるのは {author.name} {author.handle} {post.url} {watch} {vars.名前}、波かっこそのものは {{ と }}）。',
    en: 'The placeholder {placeholder} cannot be used ({author.name}, {author.handle}, {post.url}, {watch} and {vars.NAME} can; write {{ and }} for braces).',
  },
};

/*
 * Why a reply to a surge's members left one out, shown per member on the surge's page. Reasons that are
 * a single reply's refusals or problems read as those do.
 */
const SKIPS: { readonly [R in SurgeSkipReason]?: Text } = {
  already_handled: {
    ja: 'すでに対応済みです（返信済みか対応不要）。',
    en: 'Already handled (answered or dismissed).',
  },
  own_account: { ja: '自社のアカウントです。', en: 'One of our own accounts.' },
  do_not_contact: {
    ja: '連絡しないでほしいと言われた人です。',
    en: 'This person asked not to be contacted.',
  },
  repost: { ja: 'リポストです（リポストには返信しません）。', en: 'A repost (reposts are not answered).' },
  author_cooldown: {
    ja: 'この人には {hours} 時間以内に返信しています（同じ人への連絡間隔）。',
    en: 'This person was answered within the last {hours} h (author cooldown).',
  },
  same_person: {
    ja: '同じ人の別の投稿に返信します（1 人に 1 回）。',
    en: 'The same person is answered on another post (once per person).',
  },
  daily_cap: {
    ja: '{platform} の 1 日の返信上限（{cap} 件）に達しています。',
    en: 'The daily reply cap on {platform} ({cap}) is reached.',
  },
  no_template: {
    ja: 'この投稿に合うテンプレート（{category}）がありません。',
    en: 'No template ({category}) fits this post.',
  },
};

const NONE: Text = { ja: 'なし', en: 'none' };

/** The text of a refused decision. */
export function failureMessage(failure: DeskFailure, lang: Lang): string {
  if (failure.code === 'follow_up_suppressed') {
    // Why, as a surge member left out for the same reason reads.
    const why = fillText((SKIPS[failure.reason] as Text)[lang], { ...failure.params });
    return fillText(FAILURES.follow_up_suppressed[lang], { why });
  }
  return fillText(
    FAILURES[failure.code][lang],
    failure.code === 'already_escalated' ? { target: failure.target } : {},
  );
}

/** The text of one problem with a decision's input. */
export function problemMessage(problem: DeskProblem, lang: Lang): string {
  const params: Record<string, string | number> = { ...problem.params };
  if (problem.code === 'unknown_target' && params.targets === '') params.targets = NONE[lang];
  return fillText(PROBLEMS[problem.code][lang], params);
}

/** Why a reply to a surge's members left this member out. */
export function skipMessage(
  skip: { readonly reason: SurgeSkip['reason'] | string; readonly params?: SurgeSkip['params'] },
  lang: Lang,
): string {
  const params = { ...skip.params };
  const own = SKIPS[skip.reason as SurgeSkipReason];
  if (own !== undefined) return fillText(own[lang], params);
  if (Object.hasOwn(PROBLEMS, skip.reason))
    return fillText(PROBLEMS[skip.reason as DeskProblem['code']][lang], params);
  if (Object.hasOwn(FAILURES, skip.reason))
    return fillText(FAILURES[skip.reason as DeskFailure['code']][lang], params);
  return skip.reason;
}
