import type { TextSearchConfig } from '#libs/database';

/**
 * Frequent English words that are not also common words of other Latin-script languages ("a", "in",
 * "on", "do", "he", "die" are left out for that reason). In running English prose they make up about
 * a third of all words; in French, German or Spanish prose hardly any (Dutch, with "is", "was",
 * "we", shares the most).
 */
const ENGLISH_FUNCTION_WORDS = new Set(
  [
    'the and of to is are was were be been that this these those it its for with as by from at or not',
    'but have has had will would can could should which what when where who how there their they we',
    'you your our she his her if than then also does did into about after before all any each',
    'more most such only other some may must being because between through over under',
  ]
    .join(' ')
    .split(' '),
);
/** Share of English function words from which Latin-script text counts as English. */
const ENGLISH_MIN_SHARE = 0.12;
/** Shorter than this, function words prove nothing ("Password reset"); English is the likeliest. */
const FEW_WORDS = 6;
/** Letters of Ukrainian, Belarusian, Serbian and Macedonian that Russian lacks. */
const NON_RUSSIAN_CYRILLIC = /[іїєґўјљњћђџѓќѕ]/giu;
const WORD = /[\p{L}\p{M}'’]+/gu;

/**
 * The text-search configuration to index a chunk with. A language the uploader declared in the
 * document's metadata (`lang`: "en"/"english", "ru"/"russian", or a tag like "en-US") wins;
 * otherwise the script decides: mostly Cyrillic → russian, Latin with English function words →
 * english, anything else → simple (no stemming, which is never wrong, only less forgiving).
 */
export function detectLanguage(text: string, declared?: unknown): TextSearchConfig {
  const hinted = languageFromHint(declared);
  if (hinted !== undefined) return hinted;

  const { letters, cyrillic, latin, accented } = countScripts(text);
  if (letters === 0) return 'simple';
  if (cyrillic / letters >= 0.5) {
    // Ukrainian and the like share the script but not the endings: Russian stemming would mangle them.
    const foreign = text.match(NON_RUSSIAN_CYRILLIC)?.length ?? 0;
    return foreign / cyrillic > 0.02 ? 'simple' : 'russian';
  }
  if (latin / letters < 0.5) return 'simple';

  const words = (text.toLowerCase().match(WORD) ?? []).map((word) => word.replace(/['’]s$/, ''));
  const functionWords = words.filter((word) => ENGLISH_FUNCTION_WORDS.has(word)).length;
  if (functionWords / words.length >= ENGLISH_MIN_SHARE) return 'english';
  // Accents mark most other Latin-script languages; without them a short snippet is taken as English.
  if (words.length < FEW_WORDS && accented === 0) return 'english';
  return 'simple';
}

/** "en", "EN-us", "english" → english; "ru", "ru-RU", "russian" → russian; anything else is no hint. */
export function languageFromHint(declared: unknown): TextSearchConfig | undefined {
  if (typeof declared !== 'string') return undefined;
  const tag = declared.trim().toLowerCase();
  if (tag === 'english' || tag === 'en' || tag.startsWith('en-') || tag.startsWith('en_')) return 'english';
  if (tag === 'russian' || tag === 'ru' || tag.startsWith('ru-') || tag.startsWith('ru_')) return 'russian';
  return undefined;
}

/** One pass over code points; character ranges first, since this runs over every chunk of big uploads. */
function countScripts(text: string): { letters: number; cyrillic: number; latin: number; accented: number } {
  let letters = 0;
  let cyrillic = 0;
  let latin = 0;
  let accented = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) {
      letters++;
      latin++;
    } else if (code < 0xc0) {
      continue;
    } else if (code >= 0x400 && code <= 0x52f) {
      letters++;
      cyrillic++;
    } else if (/\p{L}/u.test(char)) {
      letters++;
      if (/\p{Script=Latin}/u.test(char)) {
        latin++;
        accented++;
      }
    }
  }
  return { letters, cyrillic, latin, accented };
}
