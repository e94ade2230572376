import { describe, expect, it } from 'vitest';
import {
  CONTAINER_RUNNING_SCRIPT,
  hostFileSet,
  renderHostFiles,
  type HostFilesProps,
} from '../../stacks/host-file-set.js';
import { WEB_CERT_RELOAD } from '../../stacks/host-files.js';
import { hostFilesOf } from './helpers.js';

/** The files the host-files step installs, as a cloud-config-like view for the checks below. */
const parse = (declarations: string) => ({ write_files: hostFilesOf(declarations) });
const render = (props: HostFilesProps = {}) => renderHostFiles(hostFileSet(props));

describe('host files', () => {
  it('the condition script comes with any unit or script that uses it', () => {
    expect(parse(render({ scripts: [WEB_CERT_RELOAD] })).write_files.map((file) => file.path)).toContain(
      CONTAINER_RUNNING_SCRIPT.path,
    );
    expect(
      parse(render({ scripts: [{ path: '/usr/local/bin/x', content: '#!/bin/sh\n' }] })).write_files.map(
        (file) => file.path,
      ),
    ).not.toContain(CONTAINER_RUNNING_SCRIPT.path);
  });

  it('defaults: only the (empty) tmpfiles list, no units, no condition script', () => {
    expect(render()).toBe(
      "meet_file '/etc/tmpfiles.d/meet.conf' 0644 <<'MEET_EOF'\n# Installed by scripts/install-host-files.sh (Wikimedia Meet): directories the containers mount, owned by their uid.\nMEET_EOF\nmeet_units\nmeet_tmpfiles '/etc/tmpfiles.d/meet.conf'\n",
    );
  });

  it('quotes timer arguments for systemd and is deterministic', () => {
    const timers = [
      {
        name: 'x',
        description: 'd',
        onCalendar: 'daily',
        command: ['/bin/echo', 'a b', 'say "hi"'],
        after: [['/bin/true', 'c d']],
      },
    ];
    const out = render({ timers });
    expect(parse(out).write_files.find((file) => file.path === '/etc/systemd/system/x.service')!.content).toContain(
      'ExecStart=/bin/echo "a b" "say \\"hi\\""\nExecStartPost=/bin/true "c d"\n',
    );
    expect(render({ timers })).toBe(out);
  });

  it('a content line equal to the delimiter cannot end its file early', () => {
    const content = '#!/bin/sh\necho "${HOME}" %{x}\nMEET_EOF\n';
    const out = render({ scripts: [{ path: '/usr/local/bin/x', content }] });
    expect(out).toContain("<<'MEET_EOF_1'\n");
    expect(parse(out).write_files.find((file) => file.path === '/usr/local/bin/x')!.content).toBe(content);
  });

  it('validation errors', () => {
    expect(() => render({ directories: ['srv/x'] })).toThrow(
      'directory "srv/x" must be an absolute path without "..", spaces or quotes',
    );
    expect(() => render({ directories: ["/srv/it's"] })).toThrow('directory "/srv/it\'s" must be an absolute path');
    expect(() => render({ timers: [{ name: 'Bad', description: '', onCalendar: 'daily', command: ['x'] }] })).toThrow(
      'timer name "Bad" must match',
    );
    expect(() => render({ timers: [{ name: 'x', description: '', onCalendar: 'daily', command: [] }] })).toThrow(
      'timer "x" has an empty command',
    );
    expect(() =>
      render({ timers: [{ name: 'x', description: '', onCalendar: 'daily', command: ['a'], after: [[]] }] }),
    ).toThrow('timer "x" has an empty command');
    for (const timeoutSec of [0, 1.5, -60]) {
      expect(() =>
        render({ timers: [{ name: 'x', description: '', onCalendar: 'daily', command: ['a'], timeoutSec }] }),
      ).toThrow(`timer "x": timeoutSec ${timeoutSec} must be a whole number of seconds above 0`);
    }
    expect(() => render({ scripts: [{ path: 'bin/x', content: '' }] })).toThrow(
      'script "bin/x" must be an absolute path without ".."',
    );
    expect(() => render({ scripts: [{ path: '/x y', content: '' }] })).toThrow(
      'script "/x y" must be an absolute path',
    );
    expect(() => render({ scripts: [{ path: '/etc/tmpfiles.d/meet.conf', content: '' }] })).toThrow(
      'host file "/etc/tmpfiles.d/meet.conf" is given twice',
    );
  });
});
