/**
 * What the Jitsi images do, as recorded from their files at stable-11146-2 (test/fixtures/jitsi-images-facts.ts,
 * each fact cited), against what the stacks give them: no mount under /run or through a symlink of an image, and
 * no variable an image never reads (each one still replaces its container when it changes).
 */
import { describe, expect, it } from 'vitest';
import { jitsiDirectories } from '../../stacks/layout.js';
import { DEBIAN_SYMLINKS, IMAGE_SYMLINKS, mountTargetProblem, type JitsiService } from '../../stacks/jitsi-images.js';
import {
  IMAGE_LAYERS,
  LAYER_SYMLINKS,
  NOT_READ_BY_IMAGE,
  PINNED_TAG,
  PROCESS_WIDE_VARIABLES,
  READ_BY_IMAGE,
} from '../fixtures/jitsi-images-facts.js';
import { sharedStacks } from './app-helpers.js';
import { resourcesOf, synthReplacedContainer } from './helpers.js';

const SERVICE_OF: Record<string, JitsiService> = {
  'jitsi-web': 'web',
  'jitsi-prosody': 'prosody',
  'jitsi-jicofo': 'jicofo',
  'jitsi-jvb': 'jvb',
};
const SERVICES = Object.keys(IMAGE_LAYERS) as JitsiService[];
const CITATION = new RegExp(`^[a-z-]+/[A-Za-z0-9_./-]+:\\d+(-\\d+)?@${PINNED_TAG}$`);

/** The links an `ln -s TARGET LINK` line makes. */
function linksOfLine(line: string): Array<[string, string]> {
  return [...line.matchAll(/\bln\s+-s[f]?\s+(\S+)\s+(\S+)/g)].map((match): [string, string] => [match[2]!, match[1]!]);
}

/** Every recorded symlink of the service's image layers. */
function imageSymlinks(service: JitsiService): string[] {
  return IMAGE_LAYERS[service].flatMap((layer) => LAYER_SYMLINKS[layer].map((symlink) => symlink.link));
}

/** The Jitsi containers' variables the recorded facts do not say their image reads, as "stack service: NAME". */
function unreadVariables(items: ReadonlyArray<{ stack: string; item: Record<string, unknown> }>): string[] {
  return items
    .filter(({ item }) => SERVICE_OF[String(item.name)])
    .flatMap(({ stack, item }) => {
      const service = SERVICE_OF[String(item.name)]!;
      return ((item.env ?? []) as string[])
        .map((entry) => entry.split('=')[0]!)
        .filter((name) => !PROCESS_WIDE_VARIABLES.includes(name) && !Object.hasOwn(READ_BY_IMAGE[service], name))
        .map((name) => `${stack} ${service}: ${name}`);
    });
}

const stacks = { ...sharedStacks('production'), ...sharedStacks('staging') };
const containers = Object.entries(stacks).flatMap(([stack, json]) =>
  resourcesOf(json, 'docker_container').map((item) => ({ stack, item })),
);

describe("the images' symlinks (recorded from their Dockerfiles at stable-11146-2)", () => {
  it('each recorded symlink is what its cited Dockerfile line makes, and IMAGE_SYMLINKS lists exactly those of each service', () => {
    for (const [layer, symlinks] of Object.entries(LAYER_SYMLINKS)) {
      for (const symlink of symlinks) {
        expect(symlink.at, symlink.link).toMatch(CITATION);
        expect(symlink.at.startsWith(`${layer}/Dockerfile:`), symlink.at).toBe(true);
        expect(linksOfLine(symlink.line), symlink.at).toEqual([[symlink.link, symlink.target]]);
      }
    }
    for (const service of SERVICES)
      expect([...IMAGE_SYMLINKS[service]].sort(), service).toEqual([...new Set(imageSymlinks(service))].sort());
    expect(imageSymlinks('web')).toEqual(['/usr/share/jitsi-meet/.well-known', '/var/lib/nginx']);
    expect(LAYER_SYMLINKS.web.map((symlink) => symlink.target)).toEqual(['/run/web/.well-known', '/run/web/tmp']);
  });

  it('no container of any environment mounts anything under /run or through a symlink of an image or of Debian', () => {
    const forbidden = ['/run', ...SERVICES.flatMap(imageSymlinks), ...DEBIAN_SYMLINKS];
    expect(forbidden).toContain('/usr/share/jitsi-meet/.well-known');
    expect(containers.length).toBeGreaterThanOrEqual(8);
    for (const { stack, item } of containers) {
      for (const mount of (item.mounts ?? []) as Array<{ target: string }>) {
        const through = forbidden.find((root) => mount.target === root || mount.target.startsWith(`${root}/`));
        expect(through, `${stack} ${String(item.name)} mounts ${mount.target}`).toBeUndefined();
      }
    }
  });

  it('every directory created for the Jitsi containers is mounted by one of them (none created and never used)', () => {
    const sources = new Set(
      containers.flatMap(({ item }) => ((item.mounts ?? []) as Array<{ source: string }>).map((mount) => mount.source)),
    );
    expect(jitsiDirectories.filter((dir) => !sources.has(dir))).toEqual([]);
  });

  it('a container is refused when a mount target is under /run or goes through such a symlink', () => {
    const attempt = (target: string) => () =>
      synthReplacedContainer({ name: 'x', mounts: [{ type: 'bind', source: '/srv/x', target }] });
    expect(attempt('/usr/share/jitsi-meet/.well-known/acme-challenge')).toThrow(
      'container "x": mount target "/usr/share/jitsi-meet/.well-known/acme-challenge" goes through "/usr/share/jitsi-meet/.well-known", a symlink in the image',
    );
    expect(attempt('/run/web/anything')).toThrow(
      'container "x": mount target "/run/web/anything" is under /run, the tmpfs the images render their configuration into',
    );
    expect(attempt('/run')).toThrow('is under /run');
    expect(attempt('/var/run/x.sock')).toThrow('goes through "/var/run"');
    expect(attempt('/var/lib/nginx/')).toThrow('goes through "/var/lib/nginx"');
    expect(attempt('relative/path')).toThrow(
      'mount target "relative/path" must be an absolute path without "." or ".."',
    );
    expect(attempt('/srv/../run/x')).toThrow('must be an absolute path without "." or ".."');
    expect(mountTargetProblem('/runner')).toBeUndefined();
    expect(mountTargetProblem('/acme-challenge')).toBeUndefined();
    expect(mountTargetProblem('/usr/share/jitsi-meet/transcripts')).toBeUndefined();
  });
});

describe("the variables each Jitsi container gets (recorded from the images' files at stable-11146-2)", () => {
  const jitsiContainers = containers.filter(({ item }) => SERVICE_OF[String(item.name)]);

  it('every variable of every Jitsi container is one its image reads', () => {
    expect(new Set(jitsiContainers.map(({ item }) => SERVICE_OF[String(item.name)]))).toEqual(new Set(SERVICES));
    expect(unreadVariables(jitsiContainers)).toEqual([]);
  });

  it("the table records each variable with the file and line that read it, in the service's own layers, and no stale ones", () => {
    for (const service of SERVICES) {
      for (const [name, at] of Object.entries(READ_BY_IMAGE[service])) {
        expect(at, `${service} ${name}`).toMatch(CITATION);
        expect(
          IMAGE_LAYERS[service].some((layer) => at.startsWith(`${layer}/`)),
          `${service} ${name}: ${at}`,
        ).toBe(true);
      }
      const set = new Set(
        jitsiContainers
          .filter(({ item }) => SERVICE_OF[String(item.name)] === service)
          .flatMap(({ item }) => (item.env as string[]).map((entry) => entry.split('=')[0]!)),
      );
      expect(
        Object.keys(READ_BY_IMAGE[service]).filter((name) => !set.has(name)),
        `${service}: recorded but never set`,
      ).toEqual([]);
    }
  });

  it('a variable its image does not read fails the check (so the check can fail), and the three once set are gone', () => {
    const web = jitsiContainers.find(({ item }) => item.name === 'jitsi-web')!;
    const withExtra = {
      stack: web.stack,
      item: { ...web.item, env: [...(web.item.env as string[]), 'AUTH_TYPE=internal', 'SOME_NEW_VARIABLE=1'] },
    };
    expect(unreadVariables([withExtra])).toEqual([
      ...unreadVariables([web]),
      `${web.stack} web: AUTH_TYPE`,
      `${web.stack} web: SOME_NEW_VARIABLE`,
    ]);
    for (const [service, names] of Object.entries(NOT_READ_BY_IMAGE) as Array<[JitsiService, string[]]>) {
      for (const name of names) expect(Object.hasOwn(READ_BY_IMAGE[service], name), `${service} ${name}`).toBe(false);
    }
    expect(NOT_READ_BY_IMAGE).toEqual({ web: ['AUTH_TYPE'], jicofo: ['ENABLE_GUESTS'], jvb: ['PUBLIC_URL'] });
    expect(['prosody', 'jicofo'].every((service) => 'AUTH_TYPE' in READ_BY_IMAGE[service as JitsiService])).toBe(true);
    expect('ENABLE_GUESTS' in READ_BY_IMAGE.web && 'PUBLIC_URL' in READ_BY_IMAGE.web).toBe(true);
  });
});
