import { createTranslator, type Lang, langOfLocale } from '@kikimimi/runtime';

/**
 * Discord's texts in Japanese and English (the one i18n system, @kikimimi/runtime): the reviewer's
 * locale for personal answers, the guild's for messages.
 */
export type { Lang };

export const langOf = langOfLocale;

const TEXT = {
  thanks: { ja: 'お礼', en: 'Thanks' },
  apology: { ja: 'お詫び', en: 'Apology' },
  guidance: { ja: 'ご案内', en: 'Guidance' },
  custom: { ja: 'カスタム', en: 'Custom' },
  escalate: { ja: 'エスカレーション', en: 'Escalate' },
  dismiss: { ja: '対応不要', en: 'Dismiss' },
  openPost: { ja: '投稿を開く', en: 'Open post' },
  openReply: { ja: '返信を開く', en: 'Open reply' },
  postByHand: { ja: '手動で投稿する', en: 'Post it by hand' },
  markReplied: { ja: '手動で返信済みにする', en: 'Mark as replied' },
  retryReply: { ja: 'もう一度送信する', en: 'Send it again' },
  watch: { ja: 'ウォッチ', en: 'Watch' },
  intent: { ja: '意図', en: 'Intent' },
  signals: { ja: '根拠', en: 'Signals' },
  suggested: { ja: '推奨の対応', en: 'Suggested' },
  escalations: { ja: 'エスカレーション', en: 'Escalations' },
  contacts: { ja: '過去の対応', en: 'Earlier contacts' },
  noContacts: { ja: 'なし', en: 'none' },
  followers: { ja: 'フォロワー', en: 'followers' },
  status: { ja: '状態', en: 'Status' },
  replyModalLabel: { ja: '返信（編集できます）', en: 'Reply (you can edit it)' },
  dismissModalTitle: { ja: '対応不要にする', en: 'Dismiss' },
  dismissReason: { ja: '理由（任意）', en: 'Reason (optional)' },
  chooseTarget: { ja: 'エスカレーション先を選んでください', en: 'Choose where to escalate' },
  noTargets: {
    ja: 'エスカレーション先が設定されていません（コンソールの Discord 設定）',
    en: 'No escalation targets are configured (console → Discord)',
  },
  sending: { ja: '返信を送信中…', en: 'Sending the reply…' },
  replied: { ja: '返信済み', en: 'Replied' },
  replyFailed: { ja: '返信に失敗しました', en: 'The reply failed' },
  manualNeeded: {
    ja: 'プラットフォームが API からの返信を拒否しました。リンクから手動で投稿し、返信済みにしてください。',
    en: 'The platform refused an API reply. Post it by hand with the link, then mark it replied.',
  },
  escalated: { ja: 'エスカレーション済み', en: 'Escalated' },
  dismissed: { ja: '対応不要', en: 'Dismissed' },
  postDeleted: {
    ja: '投稿者が投稿を削除しました。返信はできません。',
    en: 'The author deleted the post. It can no longer be answered.',
  },
  by: { ja: '担当', en: 'by' },
  escalatedFrom: { ja: 'レビューからのエスカレーション', en: 'Escalated from review' },
  done: { ja: '完了しました。', en: 'Done.' },
  praise: { ja: '好意的', en: 'praise' },
  complaint: { ja: '不満', en: 'complaint' },
  trouble: { ja: 'お困りごと', en: 'trouble' },
  question: { ja: '質問', en: 'question' },
  neutral: { ja: '中立', en: 'neutral' },
  threadName: { ja: 'ケース: {handle}', en: 'Case: {handle}' },
  answerThanks: { ja: 'お礼', en: 'thanks' },
  answerUnhappy: { ja: 'まだ不満', en: 'still unhappy' },
  answerQuestion: { ja: '新しい質問', en: 'a new question' },
  answerOther: { ja: 'その他', en: 'other' },
  answered: { ja: '💬 {handle} さんから返信（{kind}）', en: '💬 {handle} wrote back ({kind})' },
  liked: { ja: '❤️ {handle} さんが返信にいいねしました', en: '❤️ {handle} liked our reply' },
  reposted: { ja: '🔁 {handle} さんが返信をリポストしました', en: '🔁 {handle} reposted our reply' },
  noted: {
    ja: '📝 {name} さんのメモ（社内のみ・公開されません）',
    en: '📝 Note by {name} (internal, never posted)',
  },
  assignedTo: { ja: '🙋 {name} さんが担当: {assignee}', en: '🙋 {name} assigned it to {assignee}' },
  unassigned: { ja: '🙋 {name} さんが担当を外しました', en: '🙋 {name} left it unassigned' },
  caseStateChanged: {
    ja: '状態: {previous} → {state}（{name}）',
    en: 'State: {previous} → {state} ({name})',
  },
  voiceTagged: {
    ja: '📣 {name} さんが「{department}」へのご意見として共有しました',
    en: '📣 {name} shared it as a customer voice for {department}',
  },
  digestTitle: {
    ja: '📣 **お客さまの声とご返信の効果** {from} 〜 {to}（{tz}）',
    en: '📣 **Customer voices and the effect of our replies** {from} – {to} ({tz})',
  },
  digestEffect: {
    ja: '返信 {sent} 件（フォローアップ {followUps}）· 反応率 {reaction}（{reacted} 件）· 好意的な反応 {positive}（{positives} 件）· 反応までの時間 中央値 {median} / 90% {p90}',
    en: 'Replies {sent} ({followUps} follow-ups) · reaction rate {reaction} ({reacted}) · positive {positive} ({positives}) · time to reaction median {median} / p90 {p90}',
  },
  digestAnswers: {
    ja: 'お客さまの返信: お礼 {thanks} · まだ不満 {unhappy} · 新しい質問 {question} · その他 {other}',
    en: 'What customers said back: thanks {thanks} · still unhappy {unhappy} · new question {question} · other {other}',
  },
  digestVoices: { ja: '**ご意見 {n}{more} 件**', en: '**{n}{more} customer voices**' },
  digestNoVoices: { ja: 'この期間のご意見はありません。', en: 'No customer voices in this period.' },
  digestMore: {
    ja: '（すべてはコンソールの /digest?from={from}&to={to} にあります）',
    en: '(the whole digest is on the console at /digest?from={from}&to={to})',
  },
  digestSeconds: { ja: '{n} 秒', en: '{n} s' },
  digestMinutes: { ja: '{n} 分', en: '{n} min' },
  digestHours: { ja: '{h} 時間 {m} 分', en: '{h} h {m} min' },
  digestDays: { ja: '{d} 日 {h} 時間', en: '{d} d {h} h' },
  caseOpen: { ja: '対応中', en: 'open' },
  caseWaiting: { ja: 'お客さまの返信待ち', en: 'waiting for the customer' },
  caseResolved: { ja: '解決済み', en: 'resolved' },
  reopened: {
    ja: '↩️ {handle} さんがまた書き込みました（{kind}）。ケースを再開しました: {link}',
    en: '↩️ {handle} wrote back ({kind}); the case is open again: {link}',
  },
  signalsOf: { ja: '根拠: {signals}', en: 'Signals: {signals}' },
  caseField: { ja: 'ケース', en: 'Case' },
  note: { ja: 'メモ', en: 'Note' },
  noteModalTitle: { ja: '社内メモ（公開されません）', en: 'Internal note (never posted)' },
  noteLabel: { ja: 'メモ', en: 'Note' },
  takeIt: { ja: '担当する', en: 'Take it' },
  followUp: { ja: 'お客さまの返信に答える', en: 'Answer them' },
  followUpModalTitle: { ja: 'フォローアップ — {handle}', en: 'Follow-up — {handle}' },
} as const;

export type TextKey = keyof typeof TEXT;

export const t = createTranslator<TextKey>(TEXT);
