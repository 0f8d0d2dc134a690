// The page's text around the arena (client/src/ui/view.rs): the HUD line with the room and its match,
// the kill feed, the chat pane, and the scoreboard or the match's results over the arena.

const PHASES = { WarmUp: 'warm-up', Playing: 'playing', Results: 'results' };

const el = (id) => document.getElementById(id);

function row(cells, tag = 'td') {
  const tr = document.createElement('tr');
  for (const text of cells) {
    const cell = document.createElement(tag);
    cell.textContent = text;
    tr.append(cell);
  }
  return tr;
}

/** The room and its match, as the HUD shows them: `room ABC23 · playing 4:35`. */
export function matchLabel(game, now) {
  const secs = game.secsLeft(now);
  const clock = secs === 0 && game.match.phase === 'WarmUp'
    ? 'waiting for players'
    : `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`;
  const closing = game.closingAt === null
    ? ''
    : ` · server closing in ${Math.max(Math.ceil((game.closingAt - now) / 1000), 0)} s`;
  return `room ${game.room} · ${PHASES[game.match.phase]} ${clock}${closing}`;
}

/** Redraws what changed of the HUD, kill feed, chat and overlays; `ui` holds the page's own state. */
export function update(game, ui, now) {
  const me = game.serverMe;
  const [kills, deaths] = game.myScore();
  el('hud-name').textContent = ui.name;
  el('hud-match').textContent = matchLabel(game, now);
  const health = el('hud-health');
  health.textContent = !me ? '♥ -' : me.health > 0 ? `♥ ${me.health}` : `✝ respawn in ${me.respawn_in.toFixed(1)} s`;
  health.className = me && me.health === 0 ? 'dead' : 'alive';
  const ping = ui.rttMs === null ? '-' : ui.rttMs.toFixed(ui.rttMs < 10 ? 1 : 0);
  el('hud-stats').textContent = `K ${kills} D ${deaths} · ping ${ping} ms · tick ${game.serverTick}`
    + ` · ${ui.fps.toFixed(0)} fps · loss ${(game.snapshotLoss() * 100).toFixed(1)}%`;
  // Lines are new objects, so the newest one says whether anything changed.
  if (ui.shownFeed !== game.killFeed[game.killFeed.length - 1]) {
    el('feed').replaceChildren(...game.killFeed.map(({ killer, victim }) => {
      const li = document.createElement('li');
      li.textContent = `${killer} ✖ ${victim}`;
      return li;
    }));
    ui.shownFeed = game.killFeed[game.killFeed.length - 1];
  }
  if (ui.shownChat !== game.chat[game.chat.length - 1]) {
    const log = el('chat-log');
    log.replaceChildren(...game.chat.slice(-50).map(({ from, text }) => {
      const li = document.createElement('li');
      const who = document.createElement('b');
      who.textContent = `${from}: `;
      li.append(who, text);
      return li;
    }));
    log.scrollTop = log.scrollHeight;
    ui.shownChat = game.chat[game.chat.length - 1];
  }
  overlay(game, ui, now);
}

/** The results while the room shows them, else the scoreboard while Tab holds it open, else nothing. */
function overlay(game, ui, now) {
  const box = el('scores');
  const results = game.resultsShown();
  if (!results && !ui.scoreboard) {
    box.hidden = true;
    return;
  }
  let title = 'scoreboard';
  let lines = game.scoreboard();
  let footer = '';
  if (results) {
    const winner = results.winner === null ? 'no winner'
      : results.winner === game.me ? 'you win!' : `${game.name(results.winner)} wins`;
    title = `match over: ${winner}`;
    lines = results.lines.map((l) => ({ ...l, name: game.name(l.id) }));
    footer = `next match in ${game.secsLeft(now)} s`;
  }
  const key = JSON.stringify([title, lines, footer]);
  box.hidden = false;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  el('scores-title').textContent = title;
  el('scores-footer').textContent = footer;
  el('scores-body').replaceChildren(...lines.map((l) => {
    const tr = row([l.name, l.kills, l.deaths]);
    if (l.id === game.me) tr.className = 'me';
    return tr;
  }));
}
