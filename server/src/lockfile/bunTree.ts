// bun.lock's install tree and dependency graph, by key number.
//
// Hand-written for speed (issue #2 "Speed"): a bun.lock of 2,800 packages has some 10,000 edges, each resolved
// the node_modules way. Profiles of the corpus file showed string-keyed lookups (a Map per folder path, then an
// id -> index Map rebuilt for the dev/optional walk) costing more than the JSON.parse of the whole file. Here a
// key is its index in `packages`, folders are indices, and edges sit in flat arrays the reachability walk reads
// directly.

/** The name a key installs under: its last path segment, scope included. */
export function lastName(key: string): string {
  const slash = key.lastIndexOf("/");
  if (slash === -1) return key;
  const before = key.lastIndexOf("/", slash - 1);
  return key.charCodeAt(before + 1) === 64 /* @ */ ? key.slice(before + 1) : key.slice(slash + 1);
}

/**
 * Keys are install paths: `a/b` is b installed in a's node_modules. `a/b` needing `c` finds `a/b/c`, then `a/c`,
 * then `c`. A key whose parent path is not itself a key (a hand-edited file) still finds its siblings, then the
 * top level.
 */
export class InstallTree {
  /** Installed name of key i. */
  readonly names: string[];
  /** Folder whose node_modules holds key i: a key number, a number >= keys.length for a parent path that is not a key, or -1 for the top level. */
  private readonly parents: number[];
  private readonly children: (Map<string, number> | undefined)[];
  private readonly top = new Map<string, number>();
  private readonly indexOf: Map<string, number>;

  /** `indexOf`: key -> number for these keys, when already built. */
  constructor(keys: string[], indexOf?: Map<string, number>) {
    const n = keys.length;
    this.names = new Array<string>(n);
    this.parents = new Array<number>(n);
    this.children = new Array<Map<string, number> | undefined>(n);
    if (indexOf === undefined) {
      indexOf = new Map();
      for (let i = 0; i < n; i++) indexOf.set(keys[i], i);
    }
    this.indexOf = indexOf;
    let orphans: Map<string, number> | undefined;
    for (let i = 0; i < n; i++) {
      const key = keys[i];
      const name = lastName(key);
      this.names[i] = name;
      if (name.length === key.length) {
        this.parents[i] = -1;
        this.top.set(name, i);
        continue;
      }
      const parentKey = key.slice(0, key.length - name.length - 1);
      let parent = this.indexOf.get(parentKey);
      if (parent === undefined) {
        orphans ??= new Map();
        parent = orphans.get(parentKey);
        if (parent === undefined) {
          parent = this.parents.length;
          orphans.set(parentKey, parent);
          this.parents.push(-1);
          this.children.push(undefined);
        }
      }
      this.parents[i] = parent;
      let map = this.children[parent];
      if (map === undefined) this.children[parent] = map = new Map();
      map.set(name, i);
    }
  }

  /** Key number of `key`, or -1. */
  find(key: string): number {
    return this.indexOf.get(key) ?? -1;
  }

  /** The key `name` resolves to from key number `from` (-1: the top level); -1 when it is not installed. */
  resolve(from: number, name: string): number {
    for (let at = from; at !== -1; at = this.parents[at]) {
      const found = this.children[at]?.get(name);
      if (found !== undefined) return found;
    }
    return this.top.get(name) ?? -1;
  }
}

/** Edges by key number, appended key by key: key i's edges are at [starts[i], starts[i + 1]). */
export class EdgeList {
  readonly starts: Int32Array;
  readonly targets: number[] = [];
  /** 1 when any declaration of the edge is optional (optionalDependencies, optional peers). */
  readonly optional: number[] = [];
  private lastOpened = -1;

  constructor(keyCount: number) {
    this.starts = new Int32Array(keyCount + 1);
  }

  /** Opens key i's edges; keys must be opened in increasing order, skipped ones have none. */
  open(i: number): void {
    this.starts.fill(this.targets.length, this.lastOpened + 1, i + 1);
    this.lastOpened = i;
  }

  /** Adds an edge from the open key; false when it was already there (its optional flag is still raised). */
  add(target: number, optional: boolean): boolean {
    const from = this.starts[this.lastOpened];
    for (let k = from; k < this.targets.length; k++) {
      if (this.targets[k] === target) {
        if (optional) this.optional[k] = 1;
        return false;
      }
    }
    this.targets.push(target);
    this.optional.push(optional ? 1 : 0);
    return true;
  }

  close(): void {
    this.starts.fill(this.targets.length, this.lastOpened + 1);
  }
}

export interface Root {
  key: number;
  dev: boolean;
  optional: boolean;
}

/**
 * Bun records neither `dev` nor `optional`: a key is dev when only devDependencies of workspaces reach it, optional
 * when it is reachable but not over required edges alone. Same rules as markDevAndOptional (pnpmBunShared.ts),
 * on key numbers. Returns, per key, bit 1 = dev, bit 2 = optional.
 */
export function devAndOptional(edges: EdgeList, roots: Root[]): Uint8Array {
  const n = edges.starts.length - 1;
  const walk = (from: number[], requiredOnly: boolean): Uint8Array => {
    const seen = new Uint8Array(n);
    const queue: number[] = [];
    for (const r of from) if (r >= 0 && seen[r] === 0) (seen[r] = 1), queue.push(r);
    const { starts, targets, optional } = edges;
    for (let q = 0; q < queue.length; q++) {
      const at = queue[q];
      for (let k = starts[at]; k < starts[at + 1]; k++) {
        const next = targets[k];
        if (seen[next] === 0 && (!requiredOnly || optional[k] === 0)) (seen[next] = 1), queue.push(next);
      }
    }
    return seen;
  };
  const prod = walk(roots.filter((r) => !r.dev).map((r) => r.key), false);
  const dev = walk(roots.filter((r) => r.dev).map((r) => r.key), false);
  const needed = walk(roots.filter((r) => !r.optional).map((r) => r.key), true);
  const flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const any = prod[i] | dev[i];
    flags[i] = (prod[i] === 0 && dev[i] === 1 ? 1 : 0) | (needed[i] === 0 && any === 1 ? 2 : 0);
  }
  return flags;
}
