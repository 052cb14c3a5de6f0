/** The categories an analyser must choose from: exactly one slug per photo. Users may replace the list. */
export interface Category {
  slug: string;
  /** When this category applies; given to models verbatim. */
  description: string;
}

export interface Taxonomy {
  categories: readonly Category[];
  /** The slug used when nothing else fits. Always part of `categories`. */
  fallback: string;
}

export const DEFAULT_TAXONOMY: Taxonomy = {
  fallback: "other",
  categories: [
    {
      slug: "people",
      description: "A person or people are the prominent subject: portraits, groups, athletes.",
    },
    {
      slug: "animals",
      description: "An identifiable animal is the subject, including insects, fish and birds.",
    },
    {
      slug: "food",
      description:
        "Dishes, drinks, fruit or vegetables as food, market produce. Growing plants are not food.",
    },
    {
      slug: "vehicles",
      description: "Cars, trucks, buses, trains, boats, aircraft, bicycles, car interiors.",
    },
    {
      slug: "nature",
      description: "Landscapes, seascapes, sky and clouds, plants, flowers, fungi, macro nature.",
    },
    {
      slug: "architecture",
      description:
        "Buildings outside or inside, streets, bridges, towers, shopfronts, aerial views of towns.",
    },
    {
      slug: "objects",
      description: "Single man-made objects or products: instruments, tools, furniture, gadgets.",
    },
    {
      slug: "documents",
      description:
        "Text dominates: scans, screenshots, signs, menus, book covers, charts, handwriting, logos.",
    },
    {
      slug: "art",
      description:
        "Paintings, drawings, illustrations, 3D renders, cartoons, graffiti, sculptures, stained glass.",
    },
    {
      slug: "other",
      description: "Textures, blank or synthetic images, microscopy, astronomy, ambiguous scenes.",
    },
  ],
};

const SLUG = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Builds a taxonomy from a user's list ("slug: description" per entry); "other" is added as the fallback. */
export function parseTaxonomy(entries: readonly string[]): Taxonomy {
  const categories: Category[] = [];
  for (const entry of entries) {
    const [rawSlug, ...rest] = entry.split(":");
    const slug = (rawSlug ?? "").trim().toLowerCase();
    if (!SLUG.test(slug)) throw new Error(`invalid category slug "${slug}" (use a-z, 0-9 and -)`);
    if (categories.some((c) => c.slug === slug)) throw new Error(`category "${slug}" is listed twice`);
    categories.push({ slug, description: rest.join(":").trim() || slug });
  }
  if (!categories.some((c) => c.slug === "other")) {
    categories.push({ slug: "other", description: "Anything that fits no other category." });
  }
  return { categories, fallback: "other" };
}

export function categorySlugs(taxonomy: Taxonomy): string[] {
  return taxonomy.categories.map((c) => c.slug);
}

export function isCategory(taxonomy: Taxonomy, slug: string): boolean {
  return taxonomy.categories.some((c) => c.slug === slug);
}
