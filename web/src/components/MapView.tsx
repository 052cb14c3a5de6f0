import type { Feature, FeatureCollection, Geometry, Position } from "geojson";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { feature } from "topojson-client";
import type { GeometryCollection } from "topojson-specification";
import world from "world-atlas/countries-110m.json";
import { ApiError, getPlaces } from "../api.js";
import { formatCount, plural } from "../format.js";
import type { Place } from "../types.js";
import { MapIcon, PinIcon } from "./Icons.js";

/** An equirectangular world, 2:1: longitude and latitude map straight to x and y. */
const WIDTH = 960;
const HEIGHT = 480;
const MIN_WIDTH = WIDTH / 64;
/** Places closer than this on screen are drawn as one cluster. */
const CLUSTER_PX = 28;

const project = (lon: number, lat: number): [number, number] => [
  ((lon + 180) / 360) * WIDTH,
  ((90 - lat) / 180) * HEIGHT,
];

function ringPath(ring: Position[]): string {
  // A ring that crosses the antimeridian (Russia, Fiji) jumps by 360°: made continuous, it runs past one
  // edge of the map, so it is drawn a second time shifted by a world's width (the view clips the rest).
  const unwrapped: [number, number][] = [];
  let shift = 0;
  for (const [i, [lon, lat]] of ring.entries()) {
    const previous = ring[i - 1]?.[0];
    if (previous !== undefined && Math.abs(lon! - previous) > 180) shift += lon! > previous ? -360 : 360;
    unwrapped.push([lon! + shift, lat!]);
  }
  const lons = unwrapped.map(([lon]) => lon);
  const offsets = [0, ...(Math.min(...lons) < -180 ? [360] : []), ...(Math.max(...lons) > 180 ? [-360] : [])];
  const points = (offset: number) =>
    unwrapped.map(([lon, lat]) =>
      project(lon + offset, lat)
        .map((v) => v.toFixed(1))
        .join(","),
    );
  return offsets.map((offset) => `M${points(offset).join("L")}Z`).join("");
}

function geometryPath(geometry: Geometry | null): string {
  if (!geometry) return "";
  if (geometry.type === "Polygon") return geometry.coordinates.map(ringPath).join("");
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat().map(ringPath).join("");
  return "";
}

/** The countries' outlines as one SVG path, from the Natural Earth data shipped in world-atlas. */
const COUNTRIES = (() => {
  const countries = feature(world, world.objects.countries as GeometryCollection) as FeatureCollection;
  return countries.features.map((f: Feature) => geometryPath(f.geometry)).join("");
})();

interface View {
  x: number;
  y: number;
  width: number;
}
const WORLD: View = { x: 0, y: 0, width: WIDTH };

interface Cluster {
  x: number;
  y: number;
  count: number;
  places: Place[];
}

/** Groups places closer than `distance` (map units), largest first; each cluster sits at its weighted centre. */
function clusterPlaces(places: Place[], distance: number): Cluster[] {
  const clusters: Cluster[] = [];
  for (const place of places) {
    const [x, y] = project(place.lon, place.lat);
    const near = clusters.find((c) => Math.hypot(c.x - x, c.y - y) < distance);
    if (near) {
      near.x = (near.x * near.count + x * place.count) / (near.count + place.count);
      near.y = (near.y * near.count + y * place.count) / (near.count + place.count);
      near.count += place.count;
      near.places.push(place);
    } else {
      clusters.push({ x, y, count: place.count, places: [place] });
    }
  }
  return clusters;
}

function clamp(view: View): View {
  const width = Math.min(WIDTH, Math.max(MIN_WIDTH, view.width));
  const height = width / 2;
  return {
    width,
    x: Math.min(WIDTH - width, Math.max(0, view.x)),
    y: Math.min(HEIGHT - height, Math.max(0, view.y)),
  };
}

function zoomAt(
  view: View,
  factor: number,
  cx = view.x + view.width / 2,
  cy = view.y + view.width / 4,
): View {
  const width = Math.min(WIDTH, Math.max(MIN_WIDTH, view.width / factor));
  const ratio = width / view.width;
  return clamp({ width, x: cx - (cx - view.x) * ratio, y: cy - (cy - view.y) * ratio });
}

function clusterLabel(cluster: Cluster): string {
  const [first] = cluster.places;
  const photos = plural(cluster.count, "photo", "photos");
  if (cluster.places.length === 1) return `${first!.place}: ${photos}`;
  const others = cluster.places.length - 1;
  return `${first!.place} and ${plural(others, "other place", "other places")}: ${photos}. Zoom in`;
}

interface MapViewProps {
  /** Shows the photos taken at a place. */
  onOpenPlace: (place: string) => void;
}

/**
 * Where the photos were taken, drawn offline: country outlines (world-atlas) as SVG, one circle per place or
 * cluster of nearby places. A place opens its photos; a cluster zooms in. The list below says the same in text.
 */
export default function MapView({ onOpenPlace }: MapViewProps) {
  const [places, setPlaces] = useState<Place[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [view, setView] = useState<View>(WORLD);
  const [pixels, setPixels] = useState(WIDTH);
  const svgRef = useRef<SVGSVGElement>(null);
  const drag = useRef<{ x: number; y: number; view: View; moved: boolean } | null>(null);

  useEffect(() => {
    let cancelled = false;
    getPlaces().then(
      (found) => {
        if (!cancelled) setPlaces(found);
      },
      (reason: unknown) => {
        if (!cancelled) setError(reason instanceof ApiError ? reason.message : "Places could not be loaded.");
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

  useLayoutEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const observer = new ResizeObserver((entries) => setPixels(entries[0]?.contentRect.width || WIDTH));
    observer.observe(svg);
    return () => observer.disconnect();
  }, [places !== null]);

  // Map units per screen pixel: sizes on screen stay the same at every zoom.
  const unit = view.width / pixels;
  const clusters = useMemo(() => clusterPlaces(places ?? [], CLUSTER_PX * unit), [places, unit]);

  const zoomToCluster = (cluster: Cluster) => {
    const points = cluster.places.map((p) => project(p.lon, p.lat));
    const xs = points.map(([x]) => x);
    const ys = points.map(([, y]) => y);
    const spread = Math.max(Math.max(...xs) - Math.min(...xs), 2 * (Math.max(...ys) - Math.min(...ys)));
    // Wide enough that the places part: clusters split below CLUSTER_PX on screen.
    const width = Math.max(MIN_WIDTH, Math.min(view.width / 2, spread * 3));
    setView(clamp({ width, x: cluster.x - width / 2, y: cluster.y - width / 4 }));
  };

  const toSvg = (event: { clientX: number; clientY: number }): [number, number] => {
    const rect = svgRef.current!.getBoundingClientRect();
    return [
      view.x + ((event.clientX - rect.left) / rect.width) * view.width,
      view.y + ((event.clientY - rect.top) / rect.height) * (view.width / 2),
    ];
  };

  if (error)
    return (
      <p class="form-error" role="alert">
        {error}
      </p>
    );
  if (!places)
    return (
      <p class="muted loading-text" role="status">
        <span class="spinner small" aria-hidden="true" /> Loading the map…
      </p>
    );

  return (
    <div class="map-view">
      <div class="results-heading">
        <div class="results-title">
          <h1 class="page-title">Map</h1>
          <p class="muted">
            {plural(places.length, "place", "places")} ·{" "}
            {plural(
              places.reduce((n, p) => n + p.count, 0),
              "geotagged photo",
              "geotagged photos",
            )}
          </p>
        </div>
        <div class="map-controls">
          <button
            type="button"
            class="button small"
            onClick={() => setView(zoomAt(view, 2))}
            disabled={view.width <= MIN_WIDTH}
          >
            Zoom in
          </button>
          <button
            type="button"
            class="button small"
            onClick={() => setView(zoomAt(view, 0.5))}
            disabled={view.width >= WIDTH}
          >
            Zoom out
          </button>
          <button
            type="button"
            class="button small subtle"
            onClick={() => setView(WORLD)}
            disabled={view.width >= WIDTH}
          >
            Whole world
          </button>
        </div>
      </div>
      {places.length === 0 ? (
        <div class="empty">
          <div class="empty-art" aria-hidden="true">
            <MapIcon size={40} />
          </div>
          <h2>No geotagged photos yet</h2>
          <p class="muted">Photos whose camera recorded where they were taken appear here.</p>
        </div>
      ) : (
        <>
          <figure class="map-frame">
            <svg
              ref={svgRef}
              class="map"
              viewBox={`${view.x} ${view.y} ${view.width} ${view.width / 2}`}
              onWheel={(event) => {
                event.preventDefault();
                const [cx, cy] = toSvg(event);
                setView(zoomAt(view, event.deltaY < 0 ? 1.25 : 0.8, cx, cy));
              }}
              onPointerDown={(event) => {
                drag.current = { x: event.clientX, y: event.clientY, view, moved: false };
              }}
              onPointerMove={(event) => {
                const start = drag.current;
                if (!start || !(event.buttons & 1)) return;
                const dx = event.clientX - start.x;
                const dy = event.clientY - start.y;
                if (!start.moved && Math.hypot(dx, dy) < 4) return;
                if (!start.moved) svgRef.current?.setPointerCapture(event.pointerId);
                start.moved = true;
                const scale = start.view.width / (svgRef.current?.clientWidth || WIDTH);
                setView(clamp({ ...start.view, x: start.view.x - dx * scale, y: start.view.y - dy * scale }));
              }}
              onPointerUp={() => {
                drag.current = null;
              }}
            >
              <title>World map of the places photos were taken</title>
              <rect class="map-sea" x="0" y="0" width={WIDTH} height={HEIGHT} />
              <path class="map-land" d={COUNTRIES} />
              {clusters.map((cluster) => {
                const radius = (9 + 3 * Math.log2(cluster.count)) * unit;
                const single = cluster.places.length === 1 ? cluster.places[0]! : null;
                const marker = (
                  <>
                    <circle cx={cluster.x} cy={cluster.y} r={radius} class="map-marker" />
                    <text x={cluster.x} y={cluster.y} class="map-count" font-size={11 * unit} dy={4 * unit}>
                      {cluster.count > 999 ? `${Math.round(cluster.count / 1000)}k` : cluster.count}
                    </text>
                  </>
                );
                const key = `${cluster.places[0]!.place}:${cluster.places.length}`;
                return single ? (
                  <a
                    key={key}
                    href={`/?place=${encodeURIComponent(single.place)}`}
                    class="map-cluster"
                    aria-label={clusterLabel(cluster)}
                    onClick={(event) => {
                      event.preventDefault();
                      if (!drag.current?.moved) onOpenPlace(single.place);
                    }}
                  >
                    <title>{clusterLabel(cluster)}</title>
                    {marker}
                  </a>
                ) : (
                  // biome-ignore lint/a11y/useSemanticElements: SVG has no button element; this group acts as one
                  <g
                    key={key}
                    class="map-cluster"
                    role="button"
                    tabIndex={0}
                    aria-label={clusterLabel(cluster)}
                    onClick={() => zoomToCluster(cluster)}
                    onKeyDown={(event) => {
                      if (event.key !== "Enter" && event.key !== " ") return;
                      event.preventDefault();
                      zoomToCluster(cluster);
                    }}
                  >
                    <title>{clusterLabel(cluster)}</title>
                    {marker}
                  </g>
                );
              })}
            </svg>
          </figure>
          <section class="panel places-panel" aria-labelledby="places-title">
            <h2 id="places-title">Places</h2>
            {/* biome-ignore lint/a11y/noRedundantRoles: Safari drops list semantics from a ul styled list-style: none */}
            <ul class="place-list" role="list">
              {places.map((p) => (
                <li key={p.place}>
                  <a
                    href={`/?place=${encodeURIComponent(p.place)}`}
                    onClick={(event) => {
                      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
                      event.preventDefault();
                      onOpenPlace(p.place);
                    }}
                  >
                    <PinIcon size={16} />
                    {p.place}
                  </a>
                  <span class="muted">{formatCount(p.count)}</span>
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </div>
  );
}
