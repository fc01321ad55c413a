import unhomoglyph from 'unhomoglyph';

/** Characters that render as nothing (joiners, variation selectors, fillers): TS #39 drops them. */
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * What an address looks like, for telling look-alikes apart: the Unicode TS #39 skeleton — NFD,
 * default-ignorable characters removed, each character replaced by its prototype in Unicode's
 * confusables table (the `unhomoglyph` package ships it), NFD again — of the normalized address
 * (`normalizeEmail`), lower-cased once more. Two addresses with one skeleton look alike: Cyrillic
 * `а` and Latin `a` share one, as do `rn` and `m`. The last lower-casing is ours: the table maps
 * some characters to capitals (the digit `0` to `O`), which a lower-cased address never holds, so
 * without it `0` would never meet `o`.
 *
 * Not for display: `admin` becomes `adrnin`. The result of a given address changes only when the
 * table or Node's Unicode data does; stored skeletons are then recomputed by a migration.
 * @param normalizedEmail an address as `normalizeEmail` returns it
 */
export function emailSkeleton(normalizedEmail: string): string {
  const prototypes = unhomoglyph(normalizedEmail.normalize('NFD').replace(DEFAULT_IGNORABLE, ''));
  return prototypes.normalize('NFD').toLowerCase().normalize('NFD');
}
