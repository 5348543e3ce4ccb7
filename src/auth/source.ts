import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { credentialsPath, readCredentials, type CredentialsFile } from './credentials.js';
import { hashToken } from './secrets.js';

export interface KeyEntry {
  sk: string;
  project: string;
}

export interface TokenEntry {
  id: string;
  project: string;
}

/** Where the auth hook looks credentials up: by access key, and by the SHA-256 of a token. */
export interface CredentialSource {
  key(ak: string): KeyEntry | undefined;
  token(sha256: string): TokenEntry | undefined;
}

interface Index {
  keys: Map<string, KeyEntry>;
  tokens: Map<string, TokenEntry>;
}

const EMPTY: Index = { keys: new Map(), tokens: new Map() };

function indexOf(file: CredentialsFile | undefined): Index {
  if (!file) return EMPTY;
  return {
    keys: new Map(file.keys.map((k) => [k.ak, { sk: k.sk, project: k.project_id }])),
    tokens: new Map(file.tokens.map((t) => [t.sha256, { id: t.id, project: t.project_id }])),
  };
}

export interface FileSourceOptions {
  /** How often a lookup checks the file for changes (besides the directory watch, which sees them at once). */
  checkIntervalMs?: number;
  now?: () => number;
  onError?: (err: Error) => void;
  onReload?: (counts: { keys: number; tokens: number }) => void;
}

/**
 * Credentials read from `<data>/credentials.json` and re-read whenever the file's identity,
 * size or modification time changes, so `keys create`/`keys revoke` reach a running server
 * without a restart: at once through a watch on the data directory (`keys` replaces the file
 * by a rename), and within `checkIntervalMs` where watching does not work. A missing or
 * unreadable file means no credentials at all (fail closed), never the last good set.
 *
 * A lookup is the same work whether it finds something or not (the interval check and a map
 * read): an unknown access key is not slower than a known one, so answer times do not tell
 * which keys exist.
 */
export class FileCredentialSource implements CredentialSource {
  private index: Index = EMPTY;
  private signature = '';
  private checkedAt = -Infinity;
  private readonly interval: number;
  private readonly now: () => number;
  private watcher: FSWatcher | undefined;

  constructor(private readonly dataDir: string, private readonly options: FileSourceOptions = {}) {
    this.interval = options.checkIntervalMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.refresh(true);
    const name = basename(credentialsPath(dataDir));
    try {
      this.watcher = watch(dataDir, { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.refresh(true);
      });
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = undefined; // no watch here (e.g. the directory is missing): the interval check remains
    }
  }

  key(ak: string): KeyEntry | undefined {
    this.refresh(false);
    return this.index.keys.get(ak);
  }

  token(sha256: string): TokenEntry | undefined {
    this.refresh(false);
    return this.index.tokens.get(sha256);
  }

  /** Stops watching the data directory. */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Re-reads the file if it changed; returns whether it did. */
  refresh(force: boolean): boolean {
    const now = this.now();
    if (!force && now - this.checkedAt < this.interval) return false;
    this.checkedAt = now;
    let signature = 'absent';
    try {
      const st = statSync(credentialsPath(this.dataDir), { throwIfNoEntry: false });
      if (st) signature = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      if (signature === this.signature) return false;
      this.signature = signature;
      this.index = indexOf(st ? readCredentials(this.dataDir) : undefined);
      this.options.onReload?.({ keys: this.index.keys.size, tokens: this.index.tokens.size });
    } catch (err) {
      this.signature = signature;
      this.index = EMPTY;
      this.options.onError?.(err as Error);
    }
    return true;
  }
}

/** Credentials held in memory only (e.g. the demo session token printed at start). */
export class MemoryCredentialSource implements CredentialSource {
  private readonly keys = new Map<string, KeyEntry>();
  private readonly tokens = new Map<string, TokenEntry>();

  addKey(ak: string, sk: string, project: string): this {
    this.keys.set(ak, { sk, project });
    return this;
  }

  addToken(token: string, id: string, project: string): this {
    this.tokens.set(hashToken(token), { id, project });
    return this;
  }

  key(ak: string): KeyEntry | undefined {
    return this.keys.get(ak);
  }

  token(sha256: string): TokenEntry | undefined {
    return this.tokens.get(sha256);
  }
}

/** Looks in each source in turn. */
export function combineSources(...sources: CredentialSource[]): CredentialSource {
  return {
    key: (ak) => sources.reduce<KeyEntry | undefined>((found, s) => found ?? s.key(ak), undefined),
    token: (h) => sources.reduce<TokenEntry | undefined>((found, s) => found ?? s.token(h), undefined),
  };
}
