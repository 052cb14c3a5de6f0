import { kindOfSynset, NO_KIND } from "../../src/analysers/local/kinds.js";
import type { WordNet } from "../../src/lexicon/wordnet.js";
import type { LabelledRow } from "./dataset.js";
import { CATEGORY_ANCHOR, classSense, namedNouns } from "./subject-truth.js";

/**
 * The kind a labelled row shows, from its fine label through WordNet: an ImageNet class directly (tabby ->
 * mammal), other rows from the nouns of their description ("husky dogs playing in garden" -> dog). A kind
 * outside the row's category does not count (a "cat on a car" in vehicles is not a mammal photo).
 */
export function kindLabel(wordnet: WordNet, row: LabelledRow): string {
  const ids = row.path.startsWith("imagenet-samples/")
    ? [classSense(wordnet, row.fineLabel, row.category)?.id]
    : namedNouns(wordnet, row.fineLabel).map((noun) => classSense(wordnet, noun, row.category)?.id);
  const anchor = CATEGORY_ANCHOR[row.category];
  const anchors = new Set(anchor ? wordnet.senses(anchor).map((s) => s.id) : []);
  for (const id of ids) {
    if (id === undefined) continue;
    const kind = kindOfSynset(wordnet, id, true);
    if (kind && kind.category === row.category) return kind.concept;
    // The first noun of the category's own sort is the subject: "rocket launch" is a rocket, not a launch.
    if (wordnet.ancestors(id).some((a) => anchors.has(a))) break;
  }
  return NO_KIND;
}
