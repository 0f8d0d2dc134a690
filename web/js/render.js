// Drawing the arena on a canvas: the map (bounds, walls, health packs), projectiles, other players
// (interpolated, with names and health), the own shots predicted from the moment they are fired, and the
// own player, predicted, at the centre with its aim. The world's y points up, the screen's down. The HUD,
// scoreboard, kill feed and chat are the page's DOM.

const PALETTE = ['#4dd0e1', '#ce93d8', '#ffd54f', '#64b5f6', '#ff8a80', '#eeeeee'];
const OWN = '#76ff03';
/** Units visible across the narrower side of the canvas, about. */
const VIEW_UNITS = 28;
const RADIUS = 0.5;

/** How the world maps onto the canvas: `scale` pixels per unit, `centre` (a world point) in the middle. */
export class Camera {
  constructor(width, height, centre) {
    this.width = width;
    this.height = height;
    this.scale = Math.max(Math.min(width, height) / VIEW_UNITS, 8);
    this.centre = centre;
  }

  toScreen(p) {
    return { x: this.width / 2 + (p.x - this.centre.x) * this.scale, y: this.height / 2 - (p.y - this.centre.y) * this.scale };
  }

  toWorld(x, y) {
    return { x: this.centre.x + (x - this.width / 2) / this.scale, y: this.centre.y - (y - this.height / 2) / this.scale };
  }
}

/** The camera for a canvas: on the own player when it is known, else on the arena's middle. */
export function cameraFor(canvas, game) {
  const me = game.predictor.displayPos() ?? { x: game.arena.width / 2, y: game.arena.height / 2 };
  return new Camera(canvas.width, canvas.height, me);
}

function circle(ctx, at, r, fill) {
  ctx.beginPath();
  ctx.arc(at.x, at.y, r, 0, 2 * Math.PI);
  ctx.fillStyle = fill;
  ctx.fill();
}

/** A name above a player and its health as a bar below the name. */
function label(ctx, cam, at, name, health, colour) {
  const top = at.y - RADIUS * cam.scale - 6;
  ctx.fillStyle = colour;
  ctx.fillText(name, at.x, top - 6);
  const w = Math.max(cam.scale * 1.2, 24);
  ctx.fillStyle = '#400';
  ctx.fillRect(at.x - w / 2, top - 2, w, 3);
  ctx.fillStyle = health > 50 ? '#4caf50' : health > 25 ? '#ffc107' : '#f44336';
  ctx.fillRect(at.x - w / 2, top - 2, (w * Math.min(health, 100)) / 100, 3);
}

function aimLine(ctx, cam, at, aim, colour) {
  const len = RADIUS * cam.scale * 1.8;
  ctx.strokeStyle = colour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(at.x, at.y);
  ctx.lineTo(at.x + Math.cos(aim) * len, at.y - Math.sin(aim) * len);
  ctx.stroke();
}

function drawMap(ctx, cam, arena, packs) {
  const s = cam.scale;
  const corner = cam.toScreen({ x: 0, y: arena.height });
  ctx.fillStyle = '#1c2128';
  ctx.fillRect(corner.x, corner.y, arena.width * s, arena.height * s);
  ctx.strokeStyle = '#262c35';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = 5; x < arena.width; x += 5) {
    const a = cam.toScreen({ x, y: 0 });
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(a.x, corner.y);
  }
  for (let y = 5; y < arena.height; y += 5) {
    const a = cam.toScreen({ x: 0, y });
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(corner.x + arena.width * s, a.y);
  }
  ctx.stroke();
  ctx.strokeStyle = '#8b949e';
  ctx.strokeRect(corner.x, corner.y, arena.width * s, arena.height * s);
  ctx.fillStyle = '#57606a';
  for (const w of arena.walls) {
    const tl = cam.toScreen({ x: w.min.x, y: w.max.y });
    ctx.fillRect(tl.x, tl.y, (w.max.x - w.min.x) * s, (w.max.y - w.min.y) * s);
  }
  ctx.fillStyle = '#ff5252';
  for (const pack of packs) {
    const at = cam.toScreen(pack.pos);
    const [long, thick] = [s * 0.8, s * 0.28];
    ctx.fillRect(at.x - long / 2, at.y - thick / 2, long, thick);
    ctx.fillRect(at.x - thick / 2, at.y - long / 2, thick, long);
  }
}

/** Draws one frame at local time `now` (ms). */
export function draw(canvas, game, now) {
  const ctx = canvas.getContext('2d');
  const cam = cameraFor(canvas, game);
  ctx.fillStyle = '#0d1117';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  drawMap(ctx, cam, game.arena, game.interp.newest()?.health_packs ?? []);
  const shot = Math.max(cam.scale * 0.15, 2);
  for (const p of game.interp.projectiles(now)) {
    if (!game.shots.draws(p.id)) circle(ctx, cam.toScreen(p.pos), shot, p.owner === game.me ? '#ccff90' : '#ffeb3b');
  }
  for (const p of game.shots.positions(now)) circle(ctx, cam.toScreen(p), shot, '#ccff90');
  ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'center';
  for (const p of game.interp.players(now, game.me)) {
    const colour = PALETTE[p.id % PALETTE.length];
    const at = cam.toScreen(p.pos);
    circle(ctx, at, RADIUS * cam.scale, colour);
    aimLine(ctx, cam, at, p.aim, colour);
    label(ctx, cam, at, game.name(p.id), p.health, colour);
  }
  const mine = game.predictor.displayPos();
  if (mine && (game.serverMe?.health ?? 1) > 0) {
    const at = cam.toScreen(mine);
    circle(ctx, at, RADIUS * cam.scale, OWN);
    aimLine(ctx, cam, at, game.predictor.state.aim, OWN);
    label(ctx, cam, at, game.name(game.me), game.serverMe?.health ?? 100, OWN);
  }
}
