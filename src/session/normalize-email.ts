/**
 * The one form of an email address the module looks accounts up by and counts failed logins
 * against: NFKC (compatibility forms fold into their plain letters: full-width `ａ` is `a`, the
 * ligature `ﬁ` is `fi`), lower-cased, NFKC again (lower-casing can leave a string that is not in
 * NFKC: `H` + U+0331, which has no composed capital, becomes `h` + U+0331, which composes into
 * `ẖ`), and trimmed. Lower-casing after NFKC stands in for Unicode case
 * folding, which JavaScript does not offer; the two differ for a handful of letters (`ß` stays
 * `ß`, final `ς` stays `ς`), which then name different addresses.
 *
 * Idempotent: a normalized address normalizes to itself. Its length can differ from the input's
 * either way, so a length limit must be checked on the result.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').toLowerCase().normalize('NFKC').trim();
}
