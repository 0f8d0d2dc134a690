// The map checks of shared/src/arena.rs (Arena::validate): a Welcome's arena is checked before the page
// predicts or draws with it, as the Rust client does, so a server's bad map ends the session with a reason
// instead of a page that hangs in a wall or draws nothing. The codec already bounds the lists' lengths.

export const MAX_WALLS = 64;
export const MAX_SPAWN_POINTS = 32;
export const MAX_HEALTH_PACKS = 64;
export const MAX_ARENA_SIDE = 10000;

const finite = (v) => Number.isFinite(v.x) && Number.isFinite(v.y);
const inWall = (w, p) => p.x >= w.min.x && p.x <= w.max.x && p.y >= w.min.y && p.y <= w.max.y;

/** Whether `p` is inside the map and outside every wall (Arena::is_open). */
export const isOpen = (arena, p) => finite(p) && p.x >= 0 && p.x <= arena.width && p.y >= 0
  && p.y <= arena.height && !arena.walls.some((w) => inWall(w, p));

/** What is wrong with `arena`, in the Rust client's words; null when it is fit to play on. */
export function arenaProblem(arena) {
  const sideOk = (s) => Number.isFinite(s) && s >= 1 && s <= MAX_ARENA_SIDE;
  if (!sideOk(arena.width) || !sideOk(arena.height)) {
    return `arena size ${arena.width}x${arena.height} is outside 1..=${MAX_ARENA_SIDE}`;
  }
  const wallOk = (w) => finite(w.min) && finite(w.max) && w.min.x < w.max.x && w.min.y < w.max.y;
  if (arena.walls.length > MAX_WALLS || !arena.walls.every(wallOk)) return 'arena walls are too many or malformed';
  const open = (p) => isOpen(arena, p);
  const spawns = arena.spawn_points;
  if (spawns.length === 0 || spawns.length > MAX_SPAWN_POINTS || !spawns.every(open)) {
    return 'arena spawn points are missing, too many or misplaced';
  }
  if (arena.health_packs.length > MAX_HEALTH_PACKS || !arena.health_packs.every(open)) {
    return 'arena health packs are too many or misplaced';
  }
  return null;
}
