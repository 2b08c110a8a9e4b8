// What the registry knows besides content: repositories, manifests, tags, and blob access per repository.

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  /** Blobs the manifest references (config and layers; empty for an index). */
  blobs: string[];
  /** Child manifests an index or manifest list references. */
  manifests: string[];
}

export interface ListPage {
  /** Maximum entries to return; undefined means all. */
  n?: number;
  /** Return entries sorted after this one. */
  last?: string;
}

/**
 * The registry's metadata, kept narrow so a Postgres implementation is straightforward.
 * Lists are sorted lexically. A repository exists once a manifest has been pushed to it.
 */
export interface RegistryMetadata {
  /**
   * Records a manifest in a repository (its bytes live in the BlobStore under its digest), grants the
   * repository access to that digest as a blob, and optionally points `tag` at it.
   */
  putManifest(repository: string, manifest: ManifestRecord, tag?: string): Promise<void>;
  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  /** Removes the manifest and every tag pointing at it; true when it existed. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  resolveTag(repository: string, tag: string): Promise<string | undefined>;
  /** True when the tag existed. */
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Undefined when the repository does not exist. */
  listTags(repository: string, page: ListPage): Promise<string[] | undefined>;
  listRepositories(page: ListPage): Promise<string[]>;

  /** Grants a repository access to a blob (after an upload to it or a mount into it). */
  linkBlob(repository: string, digest: string): Promise<void>;
  hasBlob(repository: string, digest: string): Promise<boolean>;
  /** True when the link existed. */
  unlinkBlob(repository: string, digest: string): Promise<boolean>;
  /** Drops every repository's link to a blob that garbage collection deleted. */
  forgetBlob(digest: string): Promise<void>;
  /** Every digest some stored manifest needs: the manifests themselves, their blobs and children. */
  referencedDigests(): Promise<Set<string>>;
}

interface Repository {
  manifests: Map<string, ManifestRecord>;
  tags: Map<string, string>;
  blobs: Set<string>;
}

/** An in-memory RegistryMetadata, for tests and a single-process registry. */
export function createMemoryRegistryMetadata(): RegistryMetadata {
  const repositories = new Map<string, Repository>();
  const links = new Map<string, Set<string>>();

  const repo = (name: string): Repository | undefined => repositories.get(name);
  const ensureRepo = (name: string): Repository => {
    let found = repositories.get(name);
    if (!found) {
      found = { manifests: new Map(), tags: new Map(), blobs: links.get(name) ?? new Set() };
      repositories.set(name, found);
      links.set(name, found.blobs);
    }
    return found;
  };
  const linksOf = (name: string): Set<string> => {
    let set = links.get(name);
    if (!set) {
      set = new Set();
      links.set(name, set);
    }
    return set;
  };

  return {
    async putManifest(repository, manifest, tag) {
      const r = ensureRepo(repository);
      r.manifests.set(manifest.digest, { ...manifest, blobs: [...manifest.blobs] });
      r.blobs.add(manifest.digest);
      if (tag !== undefined) r.tags.set(tag, manifest.digest);
    },
    async getManifest(repository, digest) {
      return repo(repository)?.manifests.get(digest);
    },
    async deleteManifest(repository, digest) {
      const r = repo(repository);
      if (!r?.manifests.delete(digest)) return false;
      for (const [tag, target] of r.tags) if (target === digest) r.tags.delete(tag);
      return true;
    },
    async resolveTag(repository, tag) {
      return repo(repository)?.tags.get(tag);
    },
    async deleteTag(repository, tag) {
      return repo(repository)?.tags.delete(tag) ?? false;
    },
    async listTags(repository, page) {
      const r = repo(repository);
      return r ? paginate([...r.tags.keys()], page) : undefined;
    },
    async listRepositories(page) {
      return paginate([...repositories.keys()], page);
    },
    async linkBlob(repository, digest) {
      linksOf(repository).add(digest);
    },
    async hasBlob(repository, digest) {
      return links.get(repository)?.has(digest) ?? false;
    },
    async unlinkBlob(repository, digest) {
      return links.get(repository)?.delete(digest) ?? false;
    },
    async forgetBlob(digest) {
      for (const set of links.values()) set.delete(digest);
    },
    async referencedDigests() {
      const digests = new Set<string>();
      for (const r of repositories.values()) {
        for (const m of r.manifests.values()) {
          digests.add(m.digest);
          for (const d of [...m.blobs, ...m.manifests]) digests.add(d);
        }
      }
      return digests;
    },
  };
}

/** Sorts, skips entries up to and including `last`, and keeps `n`. */
export function paginate(entries: string[], page: ListPage): string[] {
  const sorted = entries.sort();
  const start = page.last === undefined ? 0 : sorted.findIndex((e) => e > page.last!);
  const from = start === -1 ? sorted.length : start;
  return page.n === undefined ? sorted.slice(from) : sorted.slice(from, from + page.n);
}
