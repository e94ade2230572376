/**
 * What the Jitsi images do, read from their own files at stable-11146-2 (test/fixtures/docker-jitsi-meet), against
 * what the stacks give them: no mount under /run or through a symlink of an image, and no variable an image never
 * reads (each one still replaces its container when it changes).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../stacks/config.js';
import { staging } from '../../stacks/environments/staging.js';
import { jitsiDirectories } from '../../stacks/layout.js';
import { DEBIAN_SYMLINKS, IMAGE_SYMLINKS, mountTargetProblem, type JitsiService } from '../../stacks/jitsi-images.js';
import { ReplacedContainer } from '../../stacks/replaced-container.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { synthStacks } from './app-helpers.js';
import { dockerStack, productionConfig, resourcesOf } from './helpers.js';

const IMAGES = join(REPO_ROOT, 'test/fixtures/docker-jitsi-meet');
/** Each service's image and the images it is built FROM (web/Dockerfile:3, jvb/Dockerfile:3 ...). */
const LAYERS: Record<JitsiService, readonly string[]> = {
  web: ['base', 'web'], prosody: ['base', 'prosody'], jicofo: ['base', 'base-java', 'jicofo'], jvb: ['base', 'base-java', 'jvb'],
};
const SERVICE_OF: Record<string, JitsiService> = { 'jitsi-web': 'web', 'jitsi-prosody': 'prosody', 'jitsi-jicofo': 'jicofo', 'jitsi-jvb': 'jvb' };

/** Every `ln -s TARGET LINK` in an image's Dockerfile, as [link, line]. */
function dockerfileSymlinks(image: string): Array<[string, number]> {
  const lines = readFileSync(join(IMAGES, image, 'Dockerfile'), 'utf8').split('\n');
  return lines.flatMap((line, index) => [...line.matchAll(/\bln\s+-s[f]?\s+(\S+)\s+(\S+)/g)].map((match): [string, number] => [match[2]!, index + 1]));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Whether any file of the service's image layers (Dockerfiles, rootfs: templates and s6 scripts) names `variable`. */
function imageReads(service: JitsiService, variable: string): boolean {
  const pattern = new RegExp(`(?<![A-Za-z0-9_])${variable}(?![A-Za-z0-9_])`);
  return LAYERS[service].some((image) => filesUnder(join(IMAGES, image)).some((file) => pattern.test(readFileSync(file, 'utf8'))));
}

const stacks = { ...synthStacks([productionConfig()]), ...synthStacks([parseEnvironment(staging)]) };
const containers = Object.entries(stacks).flatMap(([stack, json]) => resourcesOf(json, 'docker_container').map((item) => ({ stack, item })));

describe('the images\' symlinks (their Dockerfiles at stable-11146-2)', () => {
  it('IMAGE_SYMLINKS lists every `ln -s` of each service\'s image layers, at the lines its comments cite', () => {
    for (const service of Object.keys(LAYERS) as JitsiService[]) {
      const derived = LAYERS[service].flatMap((image) => dockerfileSymlinks(image).map(([link]) => link));
      expect([...IMAGE_SYMLINKS[service]].sort(), service).toEqual([...new Set(derived)].sort());
    }
    expect(dockerfileSymlinks('web')).toEqual([['/usr/share/jitsi-meet/.well-known', 27], ['/var/lib/nginx', 30]]);
    expect(readFileSync(join(IMAGES, 'web/Dockerfile'), 'utf8')).toContain('ln -s /run/web/.well-known /usr/share/jitsi-meet/.well-known');
  });

  it('no container of any environment mounts anything under /run or through a symlink of an image or of Debian', () => {
    const symlinks = [...new Set(Object.values(LAYERS).flat())].flatMap((image) => dockerfileSymlinks(image).map(([link]) => link));
    const forbidden = ['/run', ...symlinks, ...DEBIAN_SYMLINKS];
    expect(containers.length).toBeGreaterThanOrEqual(8);
    for (const { stack, item } of containers) {
      for (const mount of (item.mounts ?? []) as Array<{ target: string }>) {
        const through = forbidden.find((root) => mount.target === root || mount.target.startsWith(`${root}/`));
        expect(through, `${stack} ${String(item.name)} mounts ${mount.target}`).toBeUndefined();
      }
    }
  });

  it('every directory created for the Jitsi containers is mounted by one of them (none created and never used)', () => {
    const sources = new Set(containers.flatMap(({ item }) => ((item.mounts ?? []) as Array<{ source: string }>).map((mount) => mount.source)));
    expect(jitsiDirectories.filter((dir) => !sources.has(dir))).toEqual([]);
  });

  it('a container is refused when a mount target is under /run or goes through such a symlink', () => {
    const attempt = (target: string) => () => {
      const { stack, provider } = dockerStack();
      new ReplacedContainer(stack, 'c', { provider, name: 'x', image: 'i', imageName: 'example.org/x:1', mounts: [{ type: 'bind', source: '/srv/x', target }] });
    };
    expect(attempt('/usr/share/jitsi-meet/.well-known/acme-challenge')).toThrow(
      'container "x": mount target "/usr/share/jitsi-meet/.well-known/acme-challenge" goes through "/usr/share/jitsi-meet/.well-known", a symlink in the image');
    expect(attempt('/run/web/anything')).toThrow('container "x": mount target "/run/web/anything" is under /run, the tmpfs the images render their configuration into');
    expect(attempt('/run')).toThrow('is under /run');
    expect(attempt('/var/run/x.sock')).toThrow('goes through "/var/run"');
    expect(attempt('/var/lib/nginx/')).toThrow('goes through "/var/lib/nginx"');
    expect(attempt('relative/path')).toThrow('mount target "relative/path" must be an absolute path without "." or ".."');
    expect(attempt('/srv/../run/x')).toThrow('must be an absolute path without "." or ".."');
    expect(mountTargetProblem('/runner')).toBeUndefined();
    expect(mountTargetProblem('/acme-challenge')).toBeUndefined();
    expect(mountTargetProblem('/usr/share/jitsi-meet/transcripts')).toBeUndefined();
  });
});

describe('the variables each Jitsi container gets (the images\' files at stable-11146-2)', () => {
  // Read by the C library and the JVM rather than by the images' files.
  const PROCESS_WIDE = new Set(['TZ']);

  it('every variable of every Jitsi container is one its image reads', () => {
    const unread = containers.filter(({ item }) => SERVICE_OF[String(item.name)]).flatMap(({ stack, item }) => {
      const service = SERVICE_OF[String(item.name)]!;
      return (item.env as string[]).map((entry) => entry.split('=')[0]!)
        .filter((name) => !PROCESS_WIDE.has(name) && !imageReads(service, name)).map((name) => `${stack} ${service}: ${name}`);
    });
    expect(unread).toEqual([]);
  });

  it('the three the images never read (checked here, so the grep above can fail) are gone', () => {
    expect(imageReads('web', 'AUTH_TYPE')).toBe(false);
    expect(imageReads('jicofo', 'ENABLE_GUESTS')).toBe(false);
    expect(imageReads('jvb', 'PUBLIC_URL')).toBe(false);
    expect(imageReads('prosody', 'AUTH_TYPE') && imageReads('jicofo', 'AUTH_TYPE') && imageReads('web', 'ENABLE_GUESTS') && imageReads('web', 'PUBLIC_URL')).toBe(true);
  });
});
