import type { Registered } from './vocab.ts';

/**
 * What people write when a service is down: many wordings of one complaint (can't log in, is it
 * down?), in the generator's template syntax ({B} the brand, {a|b} alternatives, {|x} maybe x).
 * "ask" posts are the questions ("is it down?"), "neg" the reports.
 */
export interface OutageVocabulary {
  readonly neg: Registered;
  readonly ask: Registered;
}

export const outageJa: OutageVocabulary = {
  neg: {
    casual: [
      '{B}{ログインできない|ログインできん|ログイン出来ない|ログインできなくなった}{|んだけど|んだが|…|！？}',
      '{B}に{ログインできない|入れない|入れなくなった}{|んだけど|、なにこれ}',
      '{B}{繋がらない|つながらない|開けない|開かない}{|んだけど|。ログインできない}',
      '{B}ずっとログイン画面{から進まない|のまま|でくるくるしてる}',
      '{B}でエラー出てログインできない',
      '{B}、何回やってもログインに失敗する',
      '{B}ログインしようとすると{エラー|通信エラー|サーバーエラー}になる',
      'ログインできない{|…|。}{B}{|さん}',
      '{B}完全に落ちてる{|な|じゃん}',
      '{B}死んでる{|？|w}ログインできない',
    ],
    polite: [
      '{B}にログインできません。',
      '{B}にログインできなくなりました。障害でしょうか。',
      '{B}がつながらず、ログインできない状態です。',
      '{B}、先ほどからログインできません。',
    ],
  },
  ask: {
    casual: [
      '{B}落ちてる？',
      '{B}{落ちてない？|落ちた？|障害？|死んでる？|サーバー落ちた？}',
      '{B}ログインできないの私だけ？',
      '{B}ログインできないんだけどみんなも？',
      '{B}今ログインできる人いる？',
      '{B}障害起きてる？ログインできない',
    ],
    polite: [
      '{B}は今障害が発生していますか？ログインできません。',
      '{B}にログインできないのですが、障害でしょうか？',
    ],
  },
};

export const outageEn: OutageVocabulary = {
  neg: {
    casual: [
      "{can't|cannot|can not} log {in to|into} {B}{| at all| again}",
      '{B} {login|log in} {not working|is broken|keeps failing|fails every time}',
      "{B} won't let me log in",
      '{B} is down{| again| rn}',
      '{B} keeps saying login failed',
      '{B} stuck on the login screen',
    ],
    polite: ['I am unable to log in to {B}.', 'Cannot sign in to {B} since this morning, getting an error.'],
  },
  ask: {
    casual: [
      'is {B} down?',
      '{B} down for anyone else?',
      'is it just me or is {B} down',
      "anyone else {unable to log into|can't log into} {B}?",
      'is {B} down right now??',
    ],
    polite: ['Is {B} down? I cannot log in.', 'Is there an outage at {B}? Login fails.'],
  },
};
