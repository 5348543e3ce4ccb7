import './style.css';
import { ApiFailure, apiGet, loadConfig, type Session } from './api.js';
import { CarouselView } from './carousel.js';
import { byId } from './dom.js';
import { PlaybackView } from './playback.js';
import { isProjectId, loadSession, saveSession } from './session.js';
import { hooks, type Shell } from './shell.js';
import { TrafficView } from './traffic.js';
import { ViewersView } from './viewers.js';
import { StreamsView } from './streams.js';
import { loadNames } from './pickers.js';
import { formatApiTime, MINUTE } from './timewin.js';
import { currentZone, isZone, labelZone, offsetLabel, onZoneChange, setZone } from './tz.js';
import { editUrl } from './urlstate.js';

const SIGNED_OUT = 'livestats.signedOut';

/** `?refresh=<ms>` (at least 1000) shortens the 10 s refresh, e.g. for tests. */
function refreshMs(): number {
  const v = Number(new URLSearchParams(location.search).get('refresh'));
  return Number.isInteger(v) && v >= 1000 ? v : 10_000;
}

/**
 * Checks a sign-in at once with one authenticated call (the names route; on an older server without
 * it, a one-minute httpcodes query): a wrong token or project is refused here, not after a domain is typed.
 */
async function checkSignIn(session: Session): Promise<void> {
  if ((await loadNames(session, true)) !== undefined) return;
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const params = new URLSearchParams({ play_domains: 'example.com', start_time: formatApiTime(end - MINUTE), end_time: formatApiTime(end) });
  await apiGet(session, 'stats/httpcodes', params);
}

/** The header's time-zone choice, kept in the URL as `tz=utc` (local is the default). */
function setUpZone(): void {
  const select = byId('tz', HTMLSelectElement);
  byId('tz-local', HTMLOptionElement).textContent = `Local (${offsetLabel(Date.now(), 'local')})`;
  const fromUrl = new URLSearchParams(location.search).get('tz');
  if (isZone(fromUrl)) setZone(fromUrl);
  select.value = currentZone();
  labelZone();
  select.addEventListener('change', () => {
    if (isZone(select.value)) setZone(select.value);
  });
  onZoneChange((z) => {
    select.value = z;
    labelZone();
    editUrl((p) => (z === 'local' ? p.delete('tz') : p.set('tz', z)));
  });
}

async function main(): Promise<void> {
  const config = await loadConfig();
  setUpZone();
  const errorBanner = byId('error', HTMLElement);
  const who = byId('who', HTMLElement);
  const signOut = byId('sign-out', HTMLButtonElement);
  const tabs = byId('tabs', HTMLElement);
  const views: Record<string, HTMLElement> = {
    signin: byId('view-signin', HTMLElement),
    playback: byId('view-playback', HTMLElement),
    traffic: byId('view-traffic', HTMLElement),
    carousel: byId('view-carousel', HTMLElement),
  };
  let session: Session | undefined = loadSession();
  if (!session && config.demo && !sessionStorage.getItem(SIGNED_OUT)) {
    session = { projectId: config.project_id ?? 'demo', token: config.token ?? null };
  }

  const showError = (msg: string | undefined): void => {
    errorBanner.hidden = !msg;
    errorBanner.textContent = msg ?? '';
  };
  const shell: Shell = {
    demo: config.demo,
    refreshMs: refreshMs(),
    session: () => {
      if (!session) throw new ApiFailure(401, '', 'Not signed in');
      return session;
    },
    ok: () => showError(undefined),
    fail: (err) => {
      if (err instanceof ApiFailure && err.unauthorized) {
        signOutWith(`${err.message} — sign in again.`);
        return;
      }
      showError(err instanceof Error ? err.message : String(err));
    },
  };
  const playback = new PlaybackView(shell);
  const carousel = new CarouselView(shell);
  const traffic = new TrafficView(shell);
  const viewers = new ViewersView(shell);
  viewers.mount(tabs, views.traffic?.parentElement ?? document.body);
  views.viewers = viewers.section;
  const streams = new StreamsView(shell);
  streams.mount(tabs, views.traffic?.parentElement ?? document.body);
  views.streams = streams.section;

  const route = (): void => {
    playback.hide();
    carousel.hide();
    traffic.hide();
    viewers.hide();
    streams.hide();
    const signedIn = session !== undefined;
    tabs.hidden = !signedIn;
    signOut.hidden = !signedIn;
    byId('tz-choice', HTMLElement).hidden = !signedIn;
    who.textContent = session ? `project ${session.projectId}${config.demo ? ' (demo)' : ''}` : '';
    const tab = location.hash.slice(1);
    const name = !signedIn ? 'signin' : tab === 'carousel' || tab === 'traffic' || tab === 'viewers' || tab === 'streams' ? tab : 'playback';
    for (const [key, section] of Object.entries(views)) section.hidden = key !== name;
    for (const a of tabs.querySelectorAll('a')) a.classList.toggle('active', a.getAttribute('href') === `#${name}`);
    hooks().view = name;
    // Charts of a view that was hidden while the window changed size catch up now (a chart keeps its
    // old width until its container's resize is observed).
    for (const c of Object.values(hooks().charts)) if (c.getDom().offsetParent !== null) c.resize();
    if (name === 'playback') playback.show();
    else if (name === 'carousel') carousel.show();
    else if (name === 'traffic') traffic.show();
    else if (name === 'viewers') viewers.show();
    else if (name === 'streams') streams.show();
  };

  function signOutWith(message: string | undefined): void {
    session = undefined;
    saveSession(undefined);
    sessionStorage.setItem(SIGNED_OUT, '1');
    showError(message);
    route();
  }

  byId('signin-form', HTMLFormElement).addEventListener('submit', (e) => {
    e.preventDefault();
    const projectId = byId('signin-project', HTMLInputElement).value.trim();
    const token = byId('signin-token', HTMLInputElement).value.trim();
    if (!isProjectId(projectId)) {
      showError('A project id is 1–64 letters, digits, "-" or "_".');
      return;
    }
    const candidate: Session = { projectId, token: token || null };
    const button = byId('signin-submit', HTMLButtonElement);
    button.disabled = true;
    showError(undefined);
    checkSignIn(candidate).then(() => {
      session = candidate;
      saveSession(session);
      sessionStorage.removeItem(SIGNED_OUT);
      route();
    }, (err: unknown) => {
      showError(err instanceof ApiFailure && err.unauthorized ? `${err.message} — check the project id and token.` : `Cannot sign in: ${(err as Error).message}`);
    }).finally(() => {
      button.disabled = false;
    });
  });
  signOut.addEventListener('click', () => signOutWith(undefined));
  window.addEventListener('hashchange', route);
  // A new zone redraws the view shown (axes, tooltips, "Updated" in the new zone).
  onZoneChange(() => route());
  // A background tab stops polling (35 province queries a minute add up); it catches up when shown.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) route();
    else {
      playback.hide();
      carousel.hide();
      traffic.hide();
      viewers.hide();
      streams.hide();
    }
  });
  route();
}

main().catch((err: unknown) => {
  document.body.textContent = `The dashboard failed to start: ${(err as Error).message}`;
});
