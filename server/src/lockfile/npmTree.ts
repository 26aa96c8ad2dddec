// npm's node_modules resolution over the entry ids of a lockfile: shared by the model builder (npmModel.ts) and the
// incremental re-parse (npmIncremental.ts), which keeps the tree of the last parse while no key changes.

const NODE_MODULES = "node_modules/";

export interface Folder {
  /** Installed name -> entry id, for this folder's node_modules. */
  names?: Map<string, string>;
  parent?: Folder;
}

/**
 * npm's node_modules lookup: `<folder>/node_modules/<name>`, then each enclosing package's node_modules,
 * then the root's. Workspace folders (`packages/foo`) fall back to the root, as Node would.
 *
 * Folders are linked records, not `${folder}/node_modules/${name}` strings looked up in a map: each built
 * string must be hashed afresh, which made lookups the slowest part of parsing a 2,600-entry lockfile.
 */
export class NodeModulesTree {
  private readonly folders = new Map<string, Folder>();
  private readonly root: Folder = {};

  constructor() {
    this.folders.set("", this.root);
  }

  folder(path: string): Folder {
    let found = this.folders.get(path);
    if (found === undefined) {
      const cut = path.lastIndexOf(`/${NODE_MODULES}`);
      found = { parent: this.folder(cut === -1 ? "" : path.slice(0, cut)) };
      this.folders.set(path, found);
    }
    return found;
  }

  /**
   * Registers an installed package: `id` is `${folder}/node_modules/${name}` (folder "" is the root). A link
   * resolves to its target (`resolvesTo`). Returns the package's own folder, to resolve its dependencies from.
   */
  install(id: string, folder: string, name: string, resolvesTo = id): Folder {
    const parent = folder === "" ? this.root : this.folder(folder);
    (parent.names ??= new Map()).set(name, resolvesTo);
    let own = this.folders.get(id);
    if (own === undefined) {
      own = { parent };
      this.folders.set(id, own);
    }
    return own;
  }

  resolveIn(from: Folder, name: string): string | undefined {
    for (let at: Folder | undefined = from; at !== undefined; at = at.parent) {
      const id = at.names?.get(name);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  resolve(folder: string, name: string): string | undefined {
    return this.resolveIn(this.folder(folder), name);
  }
}


/** Where the installed name starts in a packages key; -1 for a workspace folder (no node_modules segment). */
export function installedNameStart(key: string): number {
  // One native lastIndexOf per try: the character loop back over the slashes it replaces cost ~7 ns a character.
  for (let at = key.lastIndexOf(NODE_MODULES); at !== -1; at = at === 0 ? -1 : key.lastIndexOf(NODE_MODULES, at - 1)) {
    if (at === 0 || key.charCodeAt(at - 1) === 47) return at + NODE_MODULES.length;
  }
  return -1;
}
